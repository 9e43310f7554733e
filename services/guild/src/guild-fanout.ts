import { Code, ConnectError } from "@connectrpc/connect";
import type { GuildEvent, OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { RelayService, type FanoutBatchRequestSchema } from "@chorus/contracts/chorus/relay/v1/relay_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Logger, MeshClients, ServiceInstance, ServiceRegistry } from "@chorus/mesh";
import { setTimeout as sleep } from "node:timers/promises";
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

/** At most this many events go to the relays in one batch. */
export const MAX_BATCH_EVENTS = 64;
/** A batch may take a while at a big guild (relays cut it into several Delivers per gateway). */
const FANOUT_TIMEOUT_MS = 30_000;
const FANOUT_ROUNDS = 3;
const FANOUT_RETRY_PAUSE_MS = 500;

/** Two online lists that hold the same sessions in the same order (usually the same array). */
function sameSessions(a: readonly OnlineSession[], b: readonly OnlineSession[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Cuts consecutive jobs into batches that share one audience: a job for the online members
 * whose online list differs from the batch's (someone came or went) starts a new batch.
 */
export function batchJobs(jobs: readonly FanoutJob[], max = MAX_BATCH_EVENTS): FanoutJob[][] {
  const batches: FanoutJob[][] = [];
  let current: FanoutJob[] = [];
  let audience: readonly OnlineSession[] | undefined;
  for (const job of jobs) {
    const toMembers = job.dispatch.toOnlineMembers;
    if (current.length >= max || (toMembers && audience && !sameSessions(audience, job.sessions))) {
      batches.push(current);
      current = [];
      audience = undefined;
    }
    current.push(job);
    if (toMembers && !audience) audience = job.sessions;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

interface Pending {
  /** Resolves once the jobs are known (`jobs` set, `settled` true). */
  ready: Promise<void>;
  jobs?: FanoutJob[];
  settled: boolean;
}

interface GuildQueue {
  pending: Pending[];
  drained: Promise<void>;
}

/**
 * Hands each event of a guild to the relays, in the order the events happened. A guild's
 * fan-outs form one chain: while a batch is on its way to the relays (and through them to
 * the gateways), the events that come meanwhile queue, and go together as the next batch
 * once every relay took the previous one. So each session sees a guild's events in order,
 * and a busy guild pays for its relay and gateway round trips (and the session store's
 * numbering) once per batch rather than once per event. The chain of one guild never waits
 * for another's. The online sessions are split evenly over the live relays (a batch that
 * also reaches users by id goes whole through one relay, so those users' sessions keep the
 * order); a relay that fails is replaced by another for its share (idempotent by delivery id).
 */
export class GuildFanout {
  private readonly queues = new Map<bigint, GuildQueue>();

  constructor(
    private readonly clients: MeshClients,
    private readonly registry: ServiceRegistry,
    private readonly logger: Logger,
  ) {}

  /**
   * Queues fan-outs behind the guild's earlier ones. `ready` resolves to the jobs once their
   * prerequisites are done (e.g. the message stored), or to undefined to skip them; queue
   * order is kept whatever order they become ready in.
   */
  enqueue(ownerId: bigint, ready: Promise<FanoutJob[] | undefined>): void {
    const entry: Pending = { ready: Promise.resolve(), settled: false };
    entry.ready = ready.then(
      (jobs) => {
        entry.jobs = jobs;
        entry.settled = true;
      },
      () => {
        entry.settled = true;
      },
    );
    let queue = this.queues.get(ownerId);
    if (!queue) {
      const created: GuildQueue = { pending: [entry], drained: Promise.resolve() };
      this.queues.set(ownerId, created);
      created.drained = this.drain(ownerId, created);
      return;
    }
    queue.pending.push(entry);
  }

  /** Resolves once every fan-out queued so far for the guild is done (tests, drains). */
  async settled(ownerId: bigint): Promise<void> {
    await this.queues.get(ownerId)?.drained;
  }

  private async drain(ownerId: bigint, queue: GuildQueue): Promise<void> {
    // Let the caller's turn finish first, so that jobs queued together go together.
    await Promise.resolve();
    while (queue.pending.length > 0) {
      await queue.pending[0].ready;
      const jobs: FanoutJob[] = [];
      while (queue.pending.length > 0 && queue.pending[0].settled && jobs.length < MAX_BATCH_EVENTS) {
        jobs.push(...(queue.pending.shift()!.jobs ?? []));
      }
      for (const batch of batchJobs(jobs)) {
        try {
          await this.run(ownerId, batch);
        } catch (err) {
          this.logger.error({ err, ownerId: String(ownerId), events: batch.map((j) => j.dispatch.event), deliveryIds: batch.map((j) => j.deliveryId) }, "fan-out failed; the events are lost for online sessions");
        }
      }
    }
    // No await since the loop's last check: nothing can have been queued in between.
    this.queues.delete(ownerId);
  }

  private async run(ownerId: bigint, jobs: readonly FanoutJob[]): Promise<void> {
    const relays = this.registry.instances("relay");
    if (relays.length === 0) throw new ConnectError("no live relay", Code.Unavailable);
    const audience = jobs.find((j) => j.dispatch.toOnlineMembers)?.sessions ?? [];
    const direct = jobs.some((j) => j.dispatch.userIds.length > 0);
    // Users reached by id get their events through relay 0; the online members' events must
    // then take the same road, or the two could overtake each other on the way.
    const shares = direct ? [[...audience], ...relays.slice(1).map(() => [])] : split(audience, relays.length);
    await Promise.all(
      relays.map(async (relay, i) => {
        const share = shares[i];
        // Every relay hears of guild changes (its table); others only when they have someone to reach.
        const events = jobs
          .filter((j) => j.guildEvent || (j.dispatch.toOnlineMembers && share.length > 0) || (i === 0 && j.dispatch.userIds.length > 0))
          .map((job) => {
            const d = job.dispatch;
            return {
              guildSeq: job.guildSeq,
              guildEvent: job.guildEvent,
              channelId: d.channelId,
              deliveryId: job.deliveryId,
              event: d.event,
              data: d.data,
              dataWithoutContent: d.dataWithoutContent ?? new Uint8Array(),
              intents: d.intents,
              toSessions: d.toOnlineMembers,
              userIds: i === 0 ? d.userIds : [],
              contentExemptUserIds: d.contentExemptUserIds ?? [],
            };
          });
        if (events.length === 0) return;
        await this.send(relay, relays, { ownerId, sessions: share, events });
      }),
    );
  }

  /**
   * FanoutBatch is idempotent by delivery id: a relay gone or stuck is replaced by the next,
   * and when every relay failed the batch is tried again after a pause (a restart, a moment of
   * overload), FANOUT_ROUNDS times in all before its events are given up for online sessions.
   */
  private async send(first: ServiceInstance, all: readonly ServiceInstance[], request: MessageInitShape<typeof FanoutBatchRequestSchema>): Promise<void> {
    let last: unknown;
    for (let round = 0; round < FANOUT_ROUNDS; round++) {
      if (round > 0) await sleep(FANOUT_RETRY_PAUSE_MS * round);
      const relays = round === 0 ? all : this.registry.instances("relay");
      const home = relays.find((r) => r.id === first.id);
      const order = home ? [home, ...relays.filter((r) => r !== home)] : relays;
      for (const relay of order) {
        try {
          await this.clients.clientFor(RelayService, relay).fanoutBatch(request, { timeoutMs: FANOUT_TIMEOUT_MS });
          return;
        } catch (err) {
          last = err;
          const code = ConnectError.from(err).code;
          if (code !== Code.Unavailable && code !== Code.DeadlineExceeded && code !== Code.ResourceExhausted) throw err;
        }
      }
    }
    throw last;
  }
}
