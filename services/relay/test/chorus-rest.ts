// The Discord REST routes the fan-out suites need: people, guilds, roles, channels, invites,
// messages, bots. Failures name the route, the status and Discord's error body.
import assert from "node:assert/strict";
import { DiscordRest } from "@chorus/testing";

export interface Person {
  id: string;
  token: string;
  username: string;
}

let serial = 0;
const run = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export class ChorusRest extends DiscordRest {
  async register(label = "user"): Promise<Person> {
    const username = `${label}_${run}_${serial++}`.slice(0, 32);
    const { token } = await this.ok("POST", "/auth/register", undefined, { username, email: `${username}@example.com`, password: "correct horse battery" });
    const me = await this.ok("GET", "/users/@me", token);
    return { id: me.id, token, username };
  }

  /** A guild owned by `owner`, with its text channel `general`. */
  async createGuild(owner: Person, name: string): Promise<{ guildId: string; generalId: string }> {
    const guild = await this.ok("POST", "/guilds", owner.token, { name });
    const channels: { id: string; name: string; type: number }[] = await this.ok("GET", `/guilds/${guild.id}/channels`, owner.token);
    const general = channels.find((c) => c.type === 0 && c.name === "general");
    assert.ok(general, `a general text channel in ${JSON.stringify(channels)}`);
    return { guildId: guild.id, generalId: general.id };
  }

  async join(channelId: string, inviter: Person, members: Person[]): Promise<void> {
    const invite = await this.ok("POST", `/channels/${channelId}/invites`, inviter.token, {});
    for (const member of members) await this.ok("POST", `/invites/${invite.code}`, member.token);
  }

  async post(author: Person, channelId: string, content: string, extra: Record<string, unknown> = {}): Promise<{ id: string; content: string; channel_id: string }> {
    return this.ok("POST", `/channels/${channelId}/messages`, author.token, { content, ...extra });
  }

  /** A bot of a new application owned by `owner`: its id (= the application's) and token. */
  async createBot(owner: Person, name: string): Promise<{ id: string; token: string }> {
    const app = await this.ok("POST", "/applications", owner.token, { name });
    const { token } = await this.ok("POST", `/applications/${app.id}/bot`, owner.token);
    return { id: app.id, token };
  }
}
