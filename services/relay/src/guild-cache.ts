import { GuildService, type GuildEvent } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { GuildModel } from "@chorus/guild-state/guild-model";
import type { Logger, MeshClients } from "@chorus/mesh";

/** Guilds nobody fanned out to for this long leave the cache. */
const IDLE_EVICT_MS = 10 * 60_000;

interface Cached {
  model: GuildModel;
  lastUsed: number;
  /** Updates of this guild's table run one at a time: one writer per guild. */
  tail: Promise<unknown>;
}

/**
 * The relay's shared member/role/channel table: one GuildModel per guild per relay process,
 * filled from the owner's state on first use and kept current by applying the guild events
 * that flow through this relay in seq order. A gap (an event this relay never saw, e.g. one
 * that went through another relay while this one was cold) makes it take the owner's state
 * again. Every fan-out of a guild reads the same table; no copy per request.
 */
export class RelayGuildCache {
  private readonly guilds = new Map<bigint, Cached>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clients: MeshClients,
    private readonly logger: Logger,
  ) {
    this.sweeper = setInterval(() => this.evictIdle(), 60_000);
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
    this.guilds.clear();
  }

  get cachedGuilds(): number {
    return this.guilds.size;
  }

  get cachedMembers(): number {
    let n = 0;
    for (const { model } of this.guilds.values()) n += model.members.size;
    return n;
  }

  /**
   * The guild's table, at least as current as `seq`, with `event` (when given) applied. The
   * returned model must only be read.
   */
  async at(ownerId: bigint, seq: bigint, event: GuildEvent | undefined): Promise<GuildModel> {
    let cached = this.guilds.get(ownerId);
    if (!cached) {
      cached = { model: new GuildModel(ownerId), lastUsed: Date.now(), tail: Promise.resolve() };
      this.guilds.set(ownerId, cached);
    }
    cached.lastUsed = Date.now();
    const entry = cached;
    // Fast path: already current and nothing to apply.
    if (entry.model.seq >= seq && (!event || event.seq <= entry.model.seq)) return entry.model;
    const update = entry.tail.then(() => this.catchUp(ownerId, entry, seq, event));
    entry.tail = update.catch(() => undefined);
    return update;
  }

  private async catchUp(ownerId: bigint, entry: Cached, seq: bigint, event: GuildEvent | undefined): Promise<GuildModel> {
    if (event && event.seq === entry.model.seq + 1n && entry.model.seq > 0n) entry.model.apply(event);
    if (entry.model.seq >= seq && (!event || event.seq <= entry.model.seq)) return entry.model;
    // Cold, or a gap: take the owner's whole state (which already holds `event`).
    const { state, seq: stateSeq } = await this.clients.client(GuildService, ownerId).getGuildState({ ownerId });
    entry.model = state ? GuildModel.fromState(ownerId, stateSeq, state) : new GuildModel(ownerId);
    this.logger.debug({ ownerId: String(ownerId), seq: String(stateSeq) }, "relay cache filled from the owner");
    return entry.model;
  }

  private evictIdle(): void {
    const cutoff = Date.now() - IDLE_EVICT_MS;
    for (const [ownerId, entry] of this.guilds) if (entry.lastUsed < cutoff) this.guilds.delete(ownerId);
  }
}
