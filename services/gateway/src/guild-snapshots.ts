import type { MeshClients } from "@chorus/mesh";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { GuildStorageService } from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import { discordGuildCreateOf } from "@chorus/discord-json/guild-create";
import { guildPresences } from "@chorus/discord-json/presences";
import type { UserCache } from "@chorus/discord-json/user-cache";

/** ListUserGuilds pages. */
const GUILD_PAGE = 1000;
/** ListMembers' largest page; a GUILD_CREATE holds at most large_threshold (<= 250) members anyway. */
const MEMBER_PAGE = 1000;

/** The guilds a session starts with, and each one's GUILD_CREATE, from the guild owners. */
export class GuildSnapshots {
  constructor(
    private readonly clients: MeshClients,
    private readonly users: UserCache,
  ) {}

  /** Every guild the user is a member of, ascending. */
  async guildIdsOf(userId: bigint): Promise<bigint[]> {
    const storage = this.clients.client(GuildStorageService, userId);
    const ids: bigint[] = [];
    for (let after = 0n; ; ) {
      const page = (await storage.listUserGuilds({ userId, afterGuildId: after, limit: GUILD_PAGE })).guildIds;
      ids.push(...page);
      if (page.length < GUILD_PAGE) return ids;
      after = page[page.length - 1];
    }
  }

  /**
   * One member's GUILD_CREATE `d` as JSON bytes. As Discord: a guild of more than
   * `largeThreshold` members is `large` and lists only this member; a smaller one lists all,
   * and, with `presences` (the session has GUILD_PRESENCES), the presences of its online
   * members. A large guild lists none: they cost a whole online list per session start, and
   * clients ask for the members they need with REQUEST_GUILD_MEMBERS `presences: true`.
   */
  async guildCreate(guildId: bigint, userId: bigint, largeThreshold: number, presences: boolean): Promise<Buffer> {
    const guildNode = this.clients.client(GuildService, guildId);
    const view = await guildNode.getGuild({ guildId, actorId: userId });
    const large = view.memberCount > largeThreshold;
    const listsAll = !large && view.member !== undefined;
    const [members, online] = await Promise.all([
      listsAll ? guildNode.listMembers({ guildId, actorId: userId, limit: MEMBER_PAGE }).then((r) => r.members) : view.member ? [view.member] : [],
      listsAll && presences ? guildNode.listOnline({ guildId }).then((r) => guildPresences(r.sessions)) : [],
    ]);
    const users = await this.users.lookup(members.map((m) => m.userId));
    const d = discordGuildCreateOf(
      { guild: view.guild!, roles: view.roles, emojis: view.emojis, channels: view.channels, members, memberCount: view.memberCount, joinedAt: view.member?.joinedAt, large, presences: online },
      users,
    );
    return Buffer.from(JSON.stringify(d));
  }
}
