// Accounts, guilds and bots through the api's Discord REST routes, for the gateway suites.
import { DiscordRest } from "@chorus/testing";

let users = 0;

export class ChorusHttp extends DiscordRest {
  /** A new person: its token and user id. */
  async register(): Promise<{ token: string; id: string }> {
    const name = `gw${process.pid}x${Date.now().toString(36)}x${users++}`;
    const body = await this.ok("POST", "/auth/register", undefined, { username: name, email: `${name}@example.com`, password: "correct horse battery" });
    const me = await this.ok("GET", "/users/@me", body.token);
    return { token: body.token, id: me.id };
  }

  async createGuild(token: string, name = "Gateway guild"): Promise<string> {
    return (await this.ok("POST", "/guilds", token, { name })).id;
  }

  /** A bot of a new application owned by `ownerToken`: its token and id (= the application's). */
  async createBot(ownerToken: string): Promise<{ token: string; id: string }> {
    const app = await this.ok("POST", "/applications", ownerToken, { name: `Bot ${users++}` });
    const bot = await this.ok("POST", `/applications/${app.id}/bot`, ownerToken);
    return { token: bot.token, id: app.id };
  }

  /** Adds a bot to a guild the way its owner would (OAuth2 bot authorization). */
  async addBot(ownerToken: string, botId: string, guildId: string): Promise<void> {
    await this.ok("POST", `/oauth2/authorize?client_id=${botId}&scope=bot&permissions=1024`, ownerToken, { guild_id: guildId, permissions: "1024", authorize: true });
  }
}
