import { z } from "zod";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MeshClients } from "@chorus/mesh";
import type { Member } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { discordMember, type UserLookup } from "@chorus/discord-json/guilds";
import { discordPresence, guildPresences, type Presence, type UserPresence } from "@chorus/discord-json/presences";
import type { UserCache } from "@chorus/discord-json/user-cache";

const snowflake = z.string().regex(/^\d{1,20}$/);

/** REQUEST_GUILD_MEMBERS (op 8) as Discord takes it: a query (username prefix) or user ids. */
const requestSchema = z.object({
  guild_id: snowflake,
  query: z.string().max(100).optional(),
  limit: z.number().int().min(0).max(100_000).default(0),
  presences: z.boolean().optional(),
  user_ids: z.union([snowflake, z.array(snowflake).max(100)]).optional(),
  nonce: z.string().max(32).optional(),
});
export type MemberRequest = z.infer<typeof requestSchema>;

export function parseMemberRequest(d: unknown): MemberRequest | undefined {
  const result = requestSchema.safeParse(d);
  if (!result.success) return undefined;
  const r = result.data;
  // Discord: one of query (with a limit; "" and 0 for everyone) or user_ids.
  return r.query === undefined && r.user_ids === undefined ? undefined : r;
}

/** Discord sends at most this many members per GUILD_MEMBERS_CHUNK. */
export const CHUNK_SIZE = 1000;
const PAGE = 1000;

/** What one REQUEST_GUILD_MEMBERS found, ready to render. */
export interface FoundMembers {
  members: readonly Member[];
  /** Requested user ids that are not members. */
  notFound: readonly string[];
  users: UserLookup;
  /** The online members' presences when the request gets them (`presences: true` with GUILD_PRESENCES); else undefined. */
  presences?: readonly UserPresence[];
}

/**
 * The GUILD_MEMBERS_CHUNK `d`s answering a request: up to CHUNK_SIZE members each (one empty
 * chunk when nothing matched), `not_found` on the first, and with presences each chunk's
 * `presences` lists those of its members who are online (offline ones are left out, as Discord).
 */
export function renderMemberChunks(request: MemberRequest, found: FoundMembers): Buffer[] {
  const guildId = BigInt(request.guild_id);
  const online = found.presences && new Map(found.presences.map((p) => [p.userId, p.presence]));
  const count = Math.max(1, Math.ceil(found.members.length / CHUNK_SIZE));
  return Array.from({ length: count }, (_, index) => {
    const members = found.members.slice(index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE);
    return Buffer.from(
      JSON.stringify({
        guild_id: request.guild_id,
        members: members.map((m) => discordMember(m, found.users)),
        chunk_index: index,
        chunk_count: count,
        ...(index === 0 && found.notFound.length > 0 ? { not_found: found.notFound } : {}),
        ...(online ? { presences: members.flatMap((m) => presenceIn(online, m.userId, guildId)) } : {}),
        ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      }),
    );
  });
}

function presenceIn(online: Map<bigint, Presence>, userId: bigint, guildId: bigint) {
  const presence = online.get(userId);
  return presence ? [discordPresence(userId, guildId, presence)] : [];
}

/** GUILD_MEMBERS_CHUNK dispatches answering one REQUEST_GUILD_MEMBERS. */
export class MemberChunks {
  constructor(
    private readonly clients: MeshClients,
    private readonly users: UserCache,
  ) {}

  /**
   * `seesPresences`: the session has GUILD_PRESENCES. Without it `presences: true` counts as
   * false, as on Discord (the chunks carry no `presences`).
   */
  async chunks(request: MemberRequest, actorId: bigint, seesPresences: boolean): Promise<Buffer[]> {
    const guildId = BigInt(request.guild_id);
    const guild = this.clients.client(GuildService, guildId);
    let members: Member[] = [];
    const notFound: string[] = [];
    if (request.user_ids !== undefined) {
      const ids = [...new Set(typeof request.user_ids === "string" ? [request.user_ids] : request.user_ids)];
      await Promise.all(
        ids.map(async (id) => {
          try {
            members.push((await guild.getMember({ guildId, actorId, userId: BigInt(id) })).member!);
          } catch (err) {
            if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
            notFound.push(id);
          }
        }),
      );
    } else {
      const limit = request.limit === 0 ? Infinity : request.limit;
      const prefix = (request.query ?? "").toLowerCase();
      for (let after = 0n; members.length < limit; ) {
        const page = (await guild.listMembers({ guildId, actorId, afterUserId: after, limit: PAGE })).members;
        if (prefix === "") members.push(...page);
        else {
          const users = await this.users.lookup(page.map((m) => m.userId));
          members.push(...page.filter((m) => users(m.userId).username.toLowerCase().startsWith(prefix) || (m.nick ?? "").toLowerCase().startsWith(prefix)));
        }
        if (page.length < PAGE) break;
        after = page[page.length - 1].userId;
      }
      members = members.slice(0, limit);
    }
    const [users, presences] = await Promise.all([
      this.users.lookup(members.map((m) => m.userId)),
      request.presences && seesPresences ? guild.listOnline({ guildId }).then((r) => guildPresences(r.sessions)) : undefined,
    ]);
    return renderMemberChunks(request, { members, notFound, users, presences });
  }
}
