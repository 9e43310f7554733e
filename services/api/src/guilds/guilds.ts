import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import type { Logger, MeshClients } from "@chorus/mesh";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import type { Channel, Guild, Invite, Member } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import {
  CreateGuildSchema,
  GuildCommandSchema,
  type GuildCommand,
  type GuildCommandResult,
} from "@chorus/contracts/chorus/chat/v1/guild_commands_pb";
import {
  ErrorReasonSchema,
  GuildService,
  type GetGuildResponse,
  type GetInviteResponse,
} from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { DirectoryKind, GuildStorageService } from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import { UnknownUserError } from "../accounts/account-errors.js";
import type { Accounts } from "../accounts/accounts.js";
import { GuildRequestError, fromGuildServiceError, unknownChannel, unknownGuild, unknownInvite } from "./guild-errors.js";

export type GuildCommandInit = MessageInitShape<typeof GuildCommandSchema>;
type ResultCase = NonNullable<GuildCommandResult["result"]["case"]>;
type ResultValue<K extends ResultCase> = Extract<GuildCommandResult["result"], { case: K }>["value"];

/** Ids are snowflakes below 2^63 (what the databases store). */
const MAX_ID = (1n << 63n) - 1n;
/**
 * How long to wait for a DM another request is creating: its owner claims the directory keys
 * first and records the channel right after, so a DM found in the directory can be a moment
 * from existing. Delays between looks, in ms.
 */
const DM_CREATION_WAITS_MS = [25, 50, 100, 200, 400, 800];
/** Guild lookups of one GET /users/@me/guilds run this many at a time. */
const GUILD_FETCH_CONCURRENCY = 16;

const isCode = (err: unknown, code: Code) => err instanceof ConnectError && err.code === code;

/** Runs a call to the guild service; its refusals become the edge's errors (GuildRequestError, InvalidFieldsError). */
async function guildCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw fromGuildServiceError(err);
  }
}

/** The value of the result case a command produces, or an error naming what came back instead. */
export function resultOf<K extends ResultCase>(result: GuildCommandResult | undefined, expected: K): ResultValue<K> {
  if (result?.result.case !== expected) {
    throw new ConnectError(`guild service answered ${result?.result.case ?? "nothing"} where ${expected} was expected`, Code.Internal);
  }
  return result.result.value as ResultValue<K>;
}

const CHANNEL_OWNERS_MAX = 100_000;

/** The key of the DM between two users in the directory: "<lower id>:<higher id>". */
export function dmKey(a: bigint, b: bigint): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/**
 * Guilds, channels, roles, members, bans, invites and private channels as the edge serves
 * them, over the guild service's contract (chorus.guild.v1.GuildService): shared by the
 * Discord routes and the Connect GuildService. Stateless: every call is routed to the guild
 * node that owns the guild (or the private channel) by its id; ids the client addresses by
 * channel or invite code are resolved through storage's directory first. The guild service
 * checks permissions and answers in Discord's codes; this class mints the ids of new guilds
 * and private channels, and checks that the users a command names exist.
 */
export class Guilds {
  /** Channel id → owner, as the directory said (see ownerOfChannel). */
  private readonly channelOwners = new Map<bigint, bigint>();

  constructor(
    private readonly clients: MeshClients,
    private readonly accounts: Accounts,
    private readonly ids: SnowflakeGenerator,
    private readonly logger: Logger,
  ) {}

  private owner(ownerId: bigint) {
    return this.clients.client(GuildService, ownerId);
  }

  private storage(shardKey: string | bigint) {
    return this.clients.client(GuildStorageService, shardKey);
  }

  /** The owner (guild id, or the channel itself) of a directory key, or undefined. */
  private async directoryOwner(kind: DirectoryKind, key: string): Promise<bigint | undefined> {
    try {
      return (await this.storage(`${kind}:${key}`).getDirectoryEntry({ kind, key })).ownerId;
    } catch (err) {
      if (isCode(err, Code.NotFound)) return undefined;
      throw err;
    }
  }

  /** The guild (or private channel) a channel belongs to; 10003 Unknown Channel when none. */
  async ownerOfChannel(channelId: bigint): Promise<bigint> {
    if (channelId === 0n || channelId > MAX_ID) throw unknownChannel();
    // A channel never moves to another guild, and ids are never reused: a known owner stays
    // right (for a deleted channel the owner answers Unknown Channel itself).
    const known = this.channelOwners.get(channelId);
    if (known !== undefined) return known;
    const owner = await this.directoryOwner(DirectoryKind.CHANNEL, channelId.toString());
    if (owner === undefined) throw unknownChannel();
    if (this.channelOwners.size >= CHANNEL_OWNERS_MAX) this.channelOwners.delete(this.channelOwners.keys().next().value!);
    this.channelOwners.set(channelId, owner);
    return owner;
  }

  /** The guild an invite code leads to; 10006 Unknown Invite when none. */
  async ownerOfInvite(code: string): Promise<bigint> {
    if (!/^[A-Za-z0-9-]{1,100}$/.test(code)) throw unknownInvite();
    const owner = await this.directoryOwner(DirectoryKind.INVITE, code);
    if (owner === undefined) throw unknownInvite();
    return owner;
  }

  /** Runs one command on the guild or private channel `ownerId`, as `actorId`. */
  async execute(actorId: bigint, ownerId: bigint, command: GuildCommandInit | GuildCommand): Promise<GuildCommandResult | undefined> {
    if (ownerId === 0n || ownerId > MAX_ID) throw unknownGuild();
    const response = await guildCall(this.owner(ownerId).execute({ ownerId, actorId, command }));
    return response.result;
  }

  /** Runs a command addressed by a channel id (Discord's /channels/:id routes) on the channel's owner. */
  async executeOnChannel(actorId: bigint, channelId: bigint, command: GuildCommandInit | GuildCommand): Promise<GuildCommandResult | undefined> {
    return this.execute(actorId, await this.ownerOfChannel(channelId), command);
  }

  /** Creates a guild owned by the caller, with a fresh id. */
  async createGuild(actorId: bigint, input: MessageInitShape<typeof CreateGuildSchema>): Promise<Guild> {
    const guildId = this.ids.next();
    const result = await this.execute(actorId, guildId, { command: { case: "createGuild", value: input } });
    return resultOf(result, "guild");
  }

  async getGuild(actorId: bigint, guildId: bigint): Promise<GetGuildResponse> {
    if (guildId === 0n || guildId > MAX_ID) throw unknownGuild();
    return guildCall(this.owner(guildId).getGuild({ guildId, actorId }));
  }

  /** A channel the caller can see, with the caller's permissions in it. */
  async getChannel(actorId: bigint, channelId: bigint): Promise<{ channel: Channel; permissions: bigint }> {
    return this.channelOf(actorId, await this.ownerOfChannel(channelId), channelId);
  }

  private async channelOf(actorId: bigint, ownerId: bigint, channelId: bigint): Promise<{ channel: Channel; permissions: bigint }> {
    const response = await guildCall(this.owner(ownerId).getChannel({ ownerId, channelId, actorId }));
    return { channel: response.channel!, permissions: response.permissions };
  }

  async listMembers(actorId: bigint, guildId: bigint, afterUserId: bigint, limit: number): Promise<Member[]> {
    if (guildId === 0n || guildId > MAX_ID) throw unknownGuild();
    return (await guildCall(this.owner(guildId).listMembers({ guildId, actorId, afterUserId, limit }))).members;
  }

  async getMember(actorId: bigint, guildId: bigint, userId: bigint): Promise<Member> {
    if (guildId === 0n || guildId > MAX_ID) throw unknownGuild();
    return (await guildCall(this.owner(guildId).getMember({ guildId, actorId, userId }))).member!;
  }

  async listBans(actorId: bigint, guildId: bigint) {
    if (guildId === 0n || guildId > MAX_ID) throw unknownGuild();
    return (await guildCall(this.owner(guildId).listBans({ guildId, actorId }))).bans;
  }

  async getBan(actorId: bigint, guildId: bigint, userId: bigint) {
    if (guildId === 0n || guildId > MAX_ID) throw unknownGuild();
    return (await guildCall(this.owner(guildId).getBan({ guildId, actorId, userId }))).ban!;
  }

  /** A guild's invites, or one channel's (channelId set; its guild found from the channel). */
  async listInvites(actorId: bigint, target: { guildId: bigint } | { channelId: bigint }): Promise<Invite[]> {
    const guildId = "guildId" in target ? target.guildId : await this.ownerOfChannel(target.channelId);
    if (guildId === 0n || guildId > MAX_ID) throw unknownGuild();
    const channelId = "channelId" in target ? target.channelId : 0n;
    return (await guildCall(this.owner(guildId).listInvites({ guildId, actorId, channelId }))).invites;
  }

  /** A live invite with its guild and channel; no membership needed. */
  async getInvite(code: string): Promise<GetInviteResponse> {
    const guildId = await this.ownerOfInvite(code);
    try {
      return await guildCall(this.owner(guildId).getInvite({ guildId, code }));
    } catch (err) {
      // The invite's guild is gone: the code leads nowhere.
      if (err instanceof GuildRequestError && err.code === Code.NotFound) throw unknownInvite();
      throw err;
    }
  }

  /** Runs AcceptInvite or DeleteInvite on the guild the code leads to. */
  async executeOnInvite(actorId: bigint, code: string, command: GuildCommandInit): Promise<GuildCommandResult | undefined> {
    return this.execute(actorId, await this.ownerOfInvite(code), command);
  }

  /** The actor's guilds by ascending id, each as GetGuild answers it; guilds gone meanwhile are left out. */
  async myGuilds(actorId: bigint, options: { afterGuildId?: bigint; limit?: number } = {}): Promise<GetGuildResponse[]> {
    const limit = options.limit ?? 200;
    const { guildIds } = await this.storage(actorId).listUserGuilds({ userId: actorId, afterGuildId: options.afterGuildId ?? 0n, limit });
    const answers: (GetGuildResponse | undefined)[] = new Array(guildIds.length);
    let next = 0;
    const worker = async () => {
      while (next < guildIds.length) {
        const index = next++;
        try {
          answers[index] = await this.getGuild(actorId, guildIds[index]);
        } catch (err) {
          // The index lags behind a leave, kick or deletion for a moment: not the caller's guild.
          if (!(err instanceof GuildRequestError)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(GUILD_FETCH_CONCURRENCY, guildIds.length) }, worker));
    return answers.filter((a): a is GetGuildResponse => a !== undefined);
  }

  /** How many members of a guild have a gateway session now. */
  async onlineCount(guildId: bigint): Promise<number> {
    const { sessions } = await guildCall(this.owner(guildId).listOnline({ guildId }));
    return new Set(sessions.map((s) => s.userId)).size;
  }

  /** Refuses users that do not exist, with Discord's code for the request (10013 Unknown User, 50033 Invalid Recipient(s)...). */
  async requireUsers(userIds: readonly bigint[], discordCode: number = RESTJSONErrorCodes.UnknownUser): Promise<void> {
    await Promise.all(
      userIds.map(async (userId) => {
        try {
          await this.accounts.getUser(userId);
        } catch (err) {
          if (!(err instanceof UnknownUserError)) throw err;
          throw new GuildRequestError(discordCode === RESTJSONErrorCodes.UnknownUser ? Code.NotFound : Code.FailedPrecondition, discordCode);
        }
      }),
    );
  }

  /**
   * The DM with one user (the existing one, or a new one), or a new group DM with several.
   * DMs are found through the directory; two callers racing to open the same DM both end up
   * in the one the guild service kept (ALREADY_EXISTS names it).
   */
  async openPrivateChannel(actorId: bigint, recipientIds: readonly bigint[], name?: string): Promise<Channel> {
    const others = [...new Set(recipientIds)];
    await this.requireUsers(others, RESTJSONErrorCodes.InvalidRecipients);
    if (others.length === 1) {
      const existing = await this.directoryOwner(DirectoryKind.DM, dmKey(actorId, others[0]));
      if (existing !== undefined) return this.existingDm(actorId, existing);
    }
    const channelId = this.ids.next();
    try {
      const response = await this.owner(channelId).execute({
        ownerId: channelId,
        actorId,
        command: { command: { case: "createPrivateChannel", value: { recipientIds: others, name } } },
      });
      return resultOf(response.result, "channel");
    } catch (err) {
      const existing = err instanceof ConnectError && err.code === Code.AlreadyExists ? err.findDetails(ErrorReasonSchema)[0]?.existingChannelId : undefined;
      if (existing) {
        this.logger.debug({ existing: String(existing) }, "DM opened concurrently; answering the one kept");
        return this.existingDm(actorId, existing);
      }
      throw fromGuildServiceError(err);
    }
  }

  /** The DM the directory names, waiting a moment when its creation is still under way. */
  private async existingDm(actorId: bigint, channelId: bigint): Promise<Channel> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.channelOf(actorId, channelId, channelId)).channel;
      } catch (err) {
        const creating = err instanceof GuildRequestError && err.discordCode === RESTJSONErrorCodes.UnknownChannel;
        if (!creating || attempt >= DM_CREATION_WAITS_MS.length) throw err;
        await sleep(DM_CREATION_WAITS_MS[attempt]);
      }
    }
  }
}
