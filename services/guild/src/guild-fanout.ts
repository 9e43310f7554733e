import { Code, ConnectError } from "@connectrpc/connect";
import type { GuildEvent, OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { RelayService, type FanoutRequestSchema } from "@chorus/contracts/chorus/relay/v1/relay_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Logger, MeshClients, ServiceInstance, ServiceRegistry } from "@chorus/mesh";
import type { Dispatch } from "./guild-dispatch.js";

export interface FanoutJob {
  ownerId: bigint;
  /** The guild's log position the dispatch comes after. */
  guildSeq: bigint;
  /** Set for guild changes: every relay applies it to its table, even with no one to reach. */
  guildEvent?: GuildEvent;
  deliveryId: string;
  dispatch: Dispatch;
  /** The guild's online sessions at the time of the event. */
  sessions: readonly OnlineSession[];
}

/** Splits `items` into `n` nearly equal shares. */
export function split<T>(items: readonly T[], n: number): T[][] {
  const shares: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => shares[i % n].push(item));
  return shares;
}

/**
 * Hands each event of a guild to the relays, in the order the events happened: a guild's
 * fan-outs form one chain (the next starts when every relay took the previous one), so that
 * each session sees a guild's events in order. The chain of one guild never waits for
 * another's. The online sessions are split evenly over the live relays; a relay that fails is
 * replaced by another for its share (Fanout is idempotent by delivery id).
 */
export class GuildFanout {
  private readonly chains = new Map<bigint, Promise<void>>();

  constructor(
    private readonly clients: MeshClients,
    private readonly registry: ServiceRegistry,
    private readonly logger: Logger,
  ) {}

  /**
   * Queues a fan-out behind the guild's earlier ones. `ready` resolves to the job once its
   * prerequisites are done (e.g. the message stored), or to undefined to skip it; it is
   * called in queue order, so work can start before the previous fan-out finished.
   */
  enqueue(ownerId: bigint, ready: Promise<FanoutJob[] | undefined>): void {
    const previous = this.chains.get(ownerId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const jobs = await ready.catch(() => undefined);
      for (const job of jobs ?? []) {
        try {
          await this.run(job);
        } catch (err) {
          this.logger.error({ err, ownerId: String(ownerId), event: job.dispatch.event, deliveryId: job.deliveryId }, "fan-out failed; the event is lost for online sessions");
        }
      }
    });
    this.chains.set(ownerId, next);
    void next.finally(() => {
      if (this.chains.get(ownerId) === next) this.chains.delete(ownerId);
    });
  }

  /** Resolves once every fan-out queued so far for the guild is done (tests, drains). */
  async settled(ownerId: bigint): Promise<void> {
    await this.chains.get(ownerId);
  }

  private async run(job: FanoutJob): Promise<void> {
    const relays = this.registry.instances("relay");
    if (relays.length === 0) throw new ConnectError("no live relay", Code.Unavailable);
    const d = job.dispatch;
    const sessions = d.toOnlineMembers ? job.sessions : [];
    const shares = split(sessions, relays.length);
    await Promise.all(
      relays.map(async (relay, i) => {
        const userIds = i === 0 ? d.userIds : [];
        // Every relay hears of guild changes (its table); others only when they have someone to reach.
        if (shares[i].length === 0 && userIds.length === 0 && !job.guildEvent) return;
        await this.send(relay, relays, {
          ownerId: job.ownerId,
          guildSeq: job.guildSeq,
          guildEvent: job.guildEvent,
          channelId: d.channelId,
          deliveryId: job.deliveryId,
          event: d.event,
          data: d.data,
          dataWithoutContent: d.dataWithoutContent ?? new Uint8Array(),
          intents: d.intents,
          sessions: shares[i],
          userIds,
          contentExemptUserIds: d.contentExemptUserIds ?? [],
        });
      }),
    );
  }

  private async send(first: ServiceInstance, all: readonly ServiceInstance[], request: MessageInitShape<typeof FanoutRequestSchema>): Promise<void> {
    const order = [first, ...all.filter((r) => r !== first)];
    let last: unknown;
    for (const relay of order) {
      try {
        await this.clients.clientFor(RelayService, relay).fanout(request);
        return;
      } catch (err) {
        last = err;
        // Fanout is idempotent by delivery id: a relay gone or stuck is replaced by the next.
        const code = ConnectError.from(err).code;
        if (code !== Code.Unavailable && code !== Code.DeadlineExceeded) throw err;
      }
    }
    throw last;
  }
}
