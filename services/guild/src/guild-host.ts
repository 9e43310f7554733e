import { setTimeout as delay } from "node:timers/promises";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { NotificationSettingsSchema, type NotificationSettings } from "@chorus/contracts/chorus/chat/v1/device_pb";
import type { GuildCommand } from "@chorus/contracts/chorus/chat/v1/guild_commands_pb";
import { GuildEventSchema, GuildStateSchema, type GuildEvent, type OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { DirectoryKind, GuildStorageService } from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import { HashRing, type Logger, type MeshClients, type ServiceRegistry } from "@chorus/mesh";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import { randomInviteCode, runCommand, type CommandOutcome, type PendingEvent } from "./guild-commands.js";
import { guildError, Codes, missingAccess, notOwner, unknownGuild } from "./guild-errors.js";
import { affectsPushes, GuildModel } from "@chorus/guild-state/guild-model";
import { dispatchesOf, json, usersOfEvent, type Dispatch } from "./guild-dispatch.js";
import { GatewayIntentBits } from "discord-api-types/v10";
import type { FanoutJob, GuildFanout } from "./guild-fanout.js";
import type { UserCache } from "@chorus/discord-json/user-cache";
import { discordPresence } from "@chorus/discord-json/presences";
import { OnlineSessions } from "./online-sessions.js";
import { PresenceCoalescer, type PresenceUpdate } from "./presence-coalescer.js";

/** A fan-out that only updates the relays' guild tables: no event for anyone. */
const TABLE_ONLY: Dispatch = { event: "", data: new Uint8Array(), intents: 0, channelId: 0n, userIds: [], toOnlineMembers: false };

/** How long a vanished gateway node's sessions may take to resume elsewhere. */
const RESUME_WINDOW_MS = 60_000;

/**
 * How long a guild's presence changes gather before they go out: a burst of connects makes one
 * PRESENCE_UPDATE per user, not one fan-out per change.
 */
const PRESENCE_WINDOW_MS = 40;
/**
 * How long a guild's next presence fan-out may wait for its fan-out queue to empty: a busy
 * guild gathers presence changes longer (fewer, fuller fan-outs), but never starves them.
 */
const PRESENCE_MAX_WAIT_MS = 250;

/** Events between snapshots: a new owner replays at most about this many. */
export const SNAPSHOT_EVERY = 100;
const READ_PAGE = 1000;

/** One guild (or private channel) this node owns and has loaded. */
interface Owned {
  model: GuildModel;
  /** Commands run one at a time, in arrival order. */
  tail: Promise<unknown>;
  /** Online sessions: in memory only (gateways re-announce). */
  online: OnlineSessions;
  /** PRESENCE_UPDATEs waiting for the guild's next presence fan-out. */
  presence: PresenceCoalescer;
  snapshotSeq: bigint;
}

export interface GuildHostOptions {
  instanceId: string;
  registry: ServiceRegistry;
  clients: MeshClients;
  ids: SnowflakeGenerator;
  logger: Logger;
  /** Hands recorded events to the relays. */
  fanout: GuildFanout;
  users: UserCache;
  /** For tests: the clock. */
  now?: () => Date;
  /** How long the sessions of a vanished gateway node stay listed (default 60 s). */
  resumeWindowMs?: number;
}

/**
 * Holds the guilds this node owns: decides ownership from the same consistent-hash ring the
 * callers route by, loads a guild from its snapshot and events on first use, runs its commands
 * one at a time and acknowledges each only after its events are appended to the log, fenced
 * by sequence number so that two nodes that briefly both think they own a guild cannot fork
 * its history. Guilds the ring moves away are dropped; a later owner reloads them.
 */
export class GuildHost {
  private readonly ring = new HashRing();
  private readonly owned = new Map<bigint, Owned>();
  private readonly loading = new Map<bigint, Promise<Owned>>();
  private readonly unwatch: () => void;
  private readonly now: () => Date;
  private readonly knownGateways = new Set<string>();
  private presenceSerial = 0;
  private readonly gatewaySweeps = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: GuildHostOptions) {
    this.now = options.now ?? (() => new Date());
    const unwatchGuilds = options.registry.watch("guild", (instances) => this.onMembership(instances.map((i) => i.id)));
    const unwatchGateways = options.registry.watch("gateway", (instances) => this.onGateways(new Set(instances.map((i) => i.id))));
    this.unwatch = () => {
      unwatchGuilds();
      unwatchGateways();
    };
    this.onMembership(options.registry.instances("guild").map((i) => i.id));
    this.onGateways(new Set(options.registry.instances("gateway").map((i) => i.id)));
  }

  close(): void {
    this.unwatch();
    for (const timer of this.gatewaySweeps.values()) clearTimeout(timer);
    for (const entry of this.owned.values()) entry.presence.close();
    this.owned.clear();
  }

  /**
   * A gateway node that left the registry took its sockets with it. Its sessions stay listed
   * for the resume window (relays keep buffering their events, so a session that resumes on
   * another node misses nothing; resuming marks it online again with the new node), then the
   * ones nobody resumed are dropped.
   */
  private onGateways(live: Set<string>): void {
    for (const gone of this.knownGateways) {
      if (live.has(gone) || this.gatewaySweeps.has(gone)) continue;
      const timer = setTimeout(() => {
        this.gatewaySweeps.delete(gone);
        this.dropSessionsOf(gone);
      }, this.options.resumeWindowMs ?? RESUME_WINDOW_MS);
      timer.unref();
      this.gatewaySweeps.set(gone, timer);
    }
    for (const id of live) {
      this.knownGateways.add(id);
      const sweep = this.gatewaySweeps.get(id);
      if (sweep) {
        clearTimeout(sweep);
        this.gatewaySweeps.delete(id);
      }
    }
    for (const id of [...this.knownGateways]) if (!live.has(id) && !this.gatewaySweeps.has(id)) this.knownGateways.delete(id);
  }

  private dropSessionsOf(gatewayId: string): void {
    for (const entry of this.owned.values()) {
      for (const userId of entry.online.removeWhere((s) => s.gatewayInstanceId === gatewayId)) entry.presence.note(userId);
    }
  }

  get ownedCount(): number {
    let n = 0;
    for (const entry of this.owned.values()) if (entry.model.exists) n++;
    return n;
  }

  get onlineCount(): number {
    let n = 0;
    for (const entry of this.owned.values()) n += entry.online.sessionCount;
    return n;
  }

  private onMembership(ids: string[]): void {
    this.ring.setNodes(ids);
    for (const ownerId of [...this.owned.keys()]) {
      if (!this.owns(ownerId)) {
        this.owned.get(ownerId)?.presence.close();
        this.owned.delete(ownerId);
        this.options.logger.info({ ownerId: String(ownerId) }, "guild moved to another node; dropped");
      }
    }
  }

  /** True when the ring gives this id to this node (or nobody is registered yet: embedded start-up). */
  owns(ownerId: bigint): boolean {
    if (this.ring.size === 0) return true;
    return this.ring.lookup(ownerId) === this.options.instanceId;
  }

  private storage(ownerId: bigint) {
    return this.options.clients.client(GuildStorageService, ownerId);
  }

  /** The loaded guild, loading it once if needed; UNAVAILABLE when this node does not own it. */
  async entry(ownerId: bigint): Promise<Owned> {
    if (!this.owns(ownerId)) throw notOwner(this.options.instanceId, ownerId);
    const loaded = this.owned.get(ownerId);
    if (loaded) return loaded;
    let pending = this.loading.get(ownerId);
    if (!pending) {
      pending = this.load(ownerId).finally(() => this.loading.delete(ownerId));
      this.loading.set(ownerId, pending);
    }
    return pending;
  }

  private async load(ownerId: bigint): Promise<Owned> {
    const model = await this.readModel(ownerId);
    const online = new OnlineSessions();
    const entry: Owned = {
      model,
      tail: Promise.resolve(),
      online,
      presence: new PresenceCoalescer({
        windowMs: PRESENCE_WINDOW_MS,
        current: (userId) => online.presence(userId),
        publish: (updates) => this.publishPresences(ownerId, entry, updates),
      }),
      snapshotSeq: model.seq,
    };
    // Ownership may have moved while loading: only keep what is still ours.
    if (this.owns(ownerId)) this.owned.set(ownerId, entry);
    return entry;
  }

  /** Snapshot, then every event after it. */
  private async readModel(ownerId: bigint): Promise<GuildModel> {
    const storage = this.storage(ownerId);
    let model = new GuildModel(ownerId);
    try {
      const { snapshot } = await storage.getGuildSnapshot({ guildId: ownerId });
      if (snapshot) model = GuildModel.fromState(ownerId, snapshot.seq, fromBinary(GuildStateSchema, snapshot.state));
    } catch (e) {
      if (ConnectError.from(e).code !== Code.NotFound) throw e;
    }
    for (;;) {
      const page = await storage.readGuildEvents({ guildId: ownerId, afterSeq: model.seq, limit: READ_PAGE });
      for (const record of page.events) model.apply(fromBinary(GuildEventSchema, record.payload));
      if (!page.more || page.events.length === 0) break;
    }
    return model;
  }

  /** Replaces a guild's state with what storage holds (after losing a fenced append). */
  private async reload(ownerId: bigint, entry: Owned): Promise<void> {
    entry.model = await this.readModel(ownerId);
    for (const userId of [...entry.online.users()]) if (!entry.model.members.has(userId)) this.forgetMember(entry, userId);
  }

  /** Runs `work` after every earlier command of the guild has finished. */
  private serialize<T>(entry: Owned, work: () => Promise<T>): Promise<T> {
    const run = entry.tail.then(work, work);
    entry.tail = run.catch(() => undefined);
    return run;
  }

  async execute(ownerId: bigint, actorId: bigint, command: GuildCommand): Promise<{ outcome: CommandOutcome; seq: bigint }> {
    const entry = await this.entry(ownerId);
    return this.serialize(entry, async () => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        if (!this.owns(ownerId) || this.owned.get(ownerId) !== entry) throw notOwner(this.options.instanceId, ownerId);
        const model = entry.model;
        const outcome = runCommand(
          { model, actorId, now: this.now(), newId: () => this.options.ids.next(), newInviteCode: randomInviteCode },
          command,
        );
        if (outcome.events.length === 0) return { outcome, seq: model.seq };
        await this.writeIndexBefore(ownerId, outcome);
        try {
          await this.record(ownerId, entry, actorId, outcome.events);
        } catch (e) {
          if (ConnectError.from(e).code !== Code.Aborted) throw e;
          // Another node wrote this guild's log: take its history and decide again.
          this.options.logger.warn({ ownerId: String(ownerId) }, "guild log moved under us; reloading");
          await this.reload(ownerId, entry);
          continue;
        }
        await this.claimAfter(ownerId, entry, actorId, outcome);
        this.writeIndexAfter(ownerId, outcome);
        this.maybeSnapshot(ownerId, entry);
        return { outcome, seq: entry.model.seq };
      }
      throw new ConnectError(`guild ${ownerId}: too much contention on its log; retry`, Code.Unavailable);
    });
  }

  /**
   * Records a member's notification settings in the guild's log (nothing when they change
   * nothing the owner holds), so the owner knows who wants pushes of plain messages.
   */
  async putMemberNotifications(settings: NotificationSettings): Promise<bigint> {
    const guildId = settings.guildId;
    const entry = await this.entry(guildId);
    return this.serialize(entry, async () => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        if (!this.owns(guildId) || this.owned.get(guildId) !== entry) throw notOwner(this.options.instanceId, guildId);
        const model = entry.model;
        if (!model.guild || model.deleted) throw unknownGuild();
        if (!model.members.has(settings.userId)) throw missingAccess();
        const held = model.memberNotifications.get(settings.userId);
        if (held ? equals(NotificationSettingsSchema, held, settings) : !affectsPushes(settings)) return model.seq;
        try {
          await this.record(guildId, entry, settings.userId, [{ dispatch: "USER_GUILD_SETTINGS_UPDATE", change: { case: "memberNotificationsUpdated", value: settings } }]);
        } catch (e) {
          if (ConnectError.from(e).code !== Code.Aborted) throw e;
          await this.reload(guildId, entry);
          continue;
        }
        this.maybeSnapshot(guildId, entry);
        return entry.model.seq;
      }
      throw new ConnectError(`guild ${guildId}: too much contention on its log; retry`, Code.Unavailable);
    });
  }

  /**
   * Appends events at the guild's current seq and folds them in. ABORTED (the log moved) is
   * passed on for the caller to reload; any other failure leaves the outcome unknown, so the
   * state is dropped (the next call reloads it) and the answer is UNAVAILABLE.
   */
  private async record(ownerId: bigint, entry: Owned, actorId: bigint, pending: readonly PendingEvent[]): Promise<void> {
    const events = this.number(entry.model.seq, actorId, pending);
    try {
      await this.storage(ownerId).appendGuildEvents({
        guildId: ownerId,
        expectedSeq: entry.model.seq,
        events: events.map((e) => ({ seq: e.seq, payload: toBinary(GuildEventSchema, e), type: e.dispatch, createdAt: e.createdAt, actorId })),
      });
    } catch (e) {
      const error = ConnectError.from(e);
      if (error.code === Code.Aborted) throw error;
      if (this.owned.get(ownerId) === entry) {
        entry.presence.close();
        this.owned.delete(ownerId);
      }
      throw new ConnectError(`guild ${ownerId}: could not record the change (${error.rawMessage}); retry`, Code.Unavailable);
    }
    for (const e of events) this.fold(entry, e);
    this.publish(ownerId, entry, events);
  }

  /**
   * The online sessions of a guild's members right now (their routes: no status or
   * activities). The same array until the online set changes; never change it.
   */
  sessionsOf(entry: Owned): readonly OnlineSession[] {
    return entry.online.all();
  }

  /** Queues the dispatches of recorded events for the relays, in log order. */
  private publish(ownerId: bigint, entry: Owned, events: readonly GuildEvent[]): void {
    const sessions = this.sessionsOf(entry);
    const model = entry.model;
    const ready = (async (): Promise<FanoutJob[]> => {
      const users = await this.options.users.lookup(events.flatMap((e) => usersOfEvent(e, model)));
      return events.flatMap((e) =>
        // An event nobody is told of still reaches the relays' tables.
        (withTableOnly(dispatchesOf(e, model, users))).map((dispatch, i) => ({
          ownerId,
          guildSeq: e.seq,
          // The relays apply the event once: with its first dispatch.
          guildEvent: i === 0 ? e : undefined,
          deliveryId: `${ownerId}:${e.seq}:${i}`,
          dispatch,
          sessions,
        })),
      );
    })();
    this.options.fanout.enqueue(ownerId, ready);
  }

  /**
   * Claims that must only ever name something that exists (a DM's user pair) are made after
   * the append. Losing one means another DM of the pair won a race: the one just created is
   * deleted again and the caller is pointed at the winner.
   */
  private async claimAfter(ownerId: bigint, entry: Owned, actorId: bigint, outcome: CommandOutcome): Promise<void> {
    for (const claim of outcome.index.claimsAfter) {
      let answer;
      try {
        answer = await this.storage(ownerId).claimDirectoryEntry({ kind: claim.kind, key: claim.key, ownerId });
      } catch (err) {
        // The DM exists; only finding it by its pair failed. A later open may make another one.
        this.options.logger.warn({ err, ownerId: String(ownerId) }, "could not index the new DM by its users");
        continue;
      }
      if (answer.claimed) continue;
      const channel = entry.model.channels.get(ownerId);
      if (channel) {
        await this.record(ownerId, entry, actorId, [{ dispatch: "CHANNEL_DELETE", change: { case: "channelDeleted", value: channel } }]).catch((err) =>
          this.options.logger.warn({ err, ownerId: String(ownerId) }, "could not delete a DM that lost its race"),
        );
      }
      throw guildError(Code.AlreadyExists, Codes.InvalidRecipients, "recipient_ids: a DM between these users exists", answer.ownerId);
    }
  }

  private number(lastSeq: bigint, actorId: bigint, pending: readonly PendingEvent[]): GuildEvent[] {
    const createdAt = timestampFromDate(this.now());
    return pending.map((e, i) =>
      create(GuildEventSchema, { seq: lastSeq + BigInt(i + 1), dispatch: e.dispatch, actorId, createdAt, change: e.change }),
    );
  }

  private fold(entry: Owned, event: GuildEvent): void {
    entry.model.apply(event);
    if (event.change.case === "memberRemoved") this.forgetMember(entry, event.change.value.userId);
    if (event.change.case === "guildDeleted") {
      entry.online.clear();
      entry.presence.reset();
    }
  }

  /** A member who left takes their sessions along, without a PRESENCE_UPDATE (GUILD_MEMBER_REMOVE says it). */
  private forgetMember(entry: Owned, userId: bigint): void {
    entry.online.removeUser(userId);
    entry.presence.forget(userId);
  }

  /**
   * Directory claims and membership index additions go first: if the append then fails they
   * point at a guild that does not have the thing, which readers treat as unknown.
   */
  private async writeIndexBefore(ownerId: bigint, outcome: CommandOutcome): Promise<void> {
    const storage = this.storage(ownerId);
    for (const claim of outcome.index.claims) {
      const answer = await storage.claimDirectoryEntry({ kind: claim.kind, key: claim.key, ownerId });
      if (answer.claimed) continue;
      throw new ConnectError(`${DirectoryKind[claim.kind]} ${claim.key} is taken by ${answer.ownerId}`, Code.Aborted);
    }
    for (const userId of outcome.index.addUserGuilds) {
      await this.options.clients.client(GuildStorageService, userId).addUserGuild({ userId, guildId: ownerId });
    }
  }

  /** Releases and index removals after the append; a failure only leaves a stale pointer. */
  private writeIndexAfter(ownerId: bigint, outcome: CommandOutcome): void {
    const storage = this.storage(ownerId);
    const log = (err: unknown) => this.options.logger.warn({ err, ownerId: String(ownerId) }, "index clean-up failed");
    for (const release of outcome.index.releases) storage.releaseDirectoryEntry({ kind: release.kind, key: release.key, ownerId }).catch(log);
    for (const userId of outcome.index.removeUserGuilds) {
      this.options.clients.client(GuildStorageService, userId).removeUserGuild({ userId, guildId: ownerId }).catch(log);
    }
  }

  private maybeSnapshot(ownerId: bigint, entry: Owned): void {
    const seq = entry.model.seq;
    if (seq - entry.snapshotSeq < BigInt(SNAPSHOT_EVERY)) return;
    entry.snapshotSeq = seq;
    const state = toBinary(GuildStateSchema, entry.model.toState());
    this.storage(ownerId)
      .putGuildSnapshot({ guildId: ownerId, seq, state })
      .catch((err) => this.options.logger.warn({ err, ownerId: String(ownerId) }, "snapshot failed; the log still has everything"));
  }

  // --- online members ------------------------------------------------------------------------

  async markOnline(guildId: bigint, session: OnlineSession): Promise<boolean> {
    const entry = await this.entry(guildId);
    if (!entry.model.members.has(session.userId)) return false;
    entry.online.upsert(session);
    entry.presence.note(session.userId);
    return true;
  }

  async markOffline(guildId: bigint, userId: bigint, sessionId: string): Promise<void> {
    const entry = await this.entry(guildId);
    if (entry.online.remove(userId, sessionId)) entry.presence.note(userId);
  }

  /**
   * The coalesced PRESENCE_UPDATEs of a guild, one per user, to the sessions with
   * GUILD_PRESENCES only: nothing is queued when there are none. Resolves (for the coalescer)
   * once the guild's fan-out queue is empty again, or after PRESENCE_MAX_WAIT_MS when it stays
   * busy (a busy guild's queue may not empty for long).
   */
  private publishPresences(guildId: bigint, entry: Owned, updates: PresenceUpdate[]): Promise<void> | undefined {
    if (this.owned.get(guildId) !== entry) return undefined;
    const listeners = entry.online.listeners();
    if (listeners.length === 0) return undefined;
    const jobs = updates.map(({ userId, presence }): FanoutJob => {
      const dispatch: Dispatch = { event: "PRESENCE_UPDATE", data: json(discordPresence(userId, guildId, presence)), intents: GatewayIntentBits.GuildPresences, channelId: 0n, userIds: [], toOnlineMembers: true };
      return { ownerId: guildId, guildSeq: entry.model.seq, deliveryId: `p:${guildId}:${userId}:${++this.presenceSerial}`, dispatch, sessions: listeners };
    });
    this.options.fanout.enqueue(guildId, Promise.resolve(jobs));
    return Promise.race([this.options.fanout.settled(guildId), delay(PRESENCE_MAX_WAIT_MS, undefined, { ref: false })]);
  }

  async listOnline(guildId: bigint): Promise<OnlineSession[]> {
    const entry = await this.entry(guildId);
    return entry.online.list();
  }

  // --- the log -------------------------------------------------------------------------------

  async readEvents(ownerId: bigint, afterSeq: bigint, limit: number): Promise<{ events: GuildEvent[]; more: boolean }> {
    const page = await this.storage(ownerId).readGuildEvents({ guildId: ownerId, afterSeq, limit });
    return { events: page.events.map((r) => fromBinary(GuildEventSchema, r.payload)), more: page.more };
  }
}

function withTableOnly(dispatches: Dispatch[]): Dispatch[] {
  return dispatches.length > 0 ? dispatches : [TABLE_ONLY];
}
