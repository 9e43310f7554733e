import { Code, ConnectError } from "@connectrpc/connect";
import { GatewayService } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import type { OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import type { FanoutEvent, FanoutRequest } from "@chorus/contracts/chorus/relay/v1/relay_pb";
import { has, Permission } from "@chorus/permissions";
import type { Logger, MeshClients, ServiceInstance, ServiceRegistry } from "@chorus/mesh";
import type { GuildModel } from "@chorus/guild-state/guild-model";
import type { RelayGuildCache } from "./guild-cache.js";

/** Finds every session of some users, wherever they are (the gateways' session directory). */
export type SessionLookup = (userIds: readonly bigint[]) => Promise<OnlineSession[]>;

export interface RelayFanoutOptions {
  cache: RelayGuildCache;
  clients: MeshClients;
  registry: ServiceRegistry;
  lookupSessions: SessionLookup;
  logger: Logger;
}

/** Who may see the channel of an event: a memo per user, computed on the shared table. */
function visibilityFilter(model: GuildModel, channelId: bigint): (userId: bigint) => boolean {
  if (channelId === 0n) return () => true;
  const channel = model.channels.get(channelId);
  if (!channel) return () => false;
  const memo = new Map<bigint, boolean>();
  return (userId) => {
    let allowed = memo.get(userId);
    if (allowed === undefined) {
      allowed = has(model.channelPermissions(userId, channel), Permission.ViewChannel);
      memo.set(userId, allowed);
    }
    return allowed;
  };
}

type Fields<T> = Omit<T, "$typeName" | "$unknown">;

/** FanoutBatchRequest's fields, without the message wrappers. */
export interface FanoutBatch {
  ownerId: bigint;
  sessions: readonly OnlineSession[];
  events: readonly Fields<FanoutEvent>[];
}

/** What one gateway node gets of a batch. */
export interface GatewayShare {
  recipients: { sessionId: string; userId: bigint }[];
  /** Session id → index in `recipients`. */
  index: Map<string, number>;
  dispatches: { deliveryId: string; event: string; data: Uint8Array; dataWithoutContent: Uint8Array; intents: number; recipientIndexes: number[]; contentExemptUserIds: bigint[] }[];
}

/**
 * At most this many (session, dispatch) pairs go in one DeliverBatch: the gateway numbers a
 * call's pairs in one Redis script, which holds Redis for its whole run, so a big guild's
 * batch goes as several calls over disjoint sets of sessions (each session's dispatches stay
 * in one call, in order).
 */
export const MAX_PAIRS_PER_DELIVERY = 4096;

/**
 * Deadline of one DeliverBatch. Longer than the mesh default (5 s): under a burst a gateway's
 * Redis scripts queue, and giving up early sends the same work to another node, which adds load
 * where there is already too much. Within the guild owner's 30 s for the whole FanoutBatch, so
 * a dead node still leaves time for the next one.
 */
const DELIVER_TIMEOUT_MS = 12_000;

/** One DeliverBatch's worth of a share. */
export interface DeliveryChunk {
  recipients: GatewayShare["recipients"];
  dispatches: GatewayShare["dispatches"];
}

/**
 * Cuts a gateway node's share into calls of at most MAX_PAIRS_PER_DELIVERY pairs, by
 * recipients; in each, a dispatch for every recipient of the call goes as an empty index
 * list (the common case: one channel's message to everyone).
 */
export function chunkShare(share: Pick<GatewayShare, "recipients" | "dispatches">, maxPairs = MAX_PAIRS_PER_DELIVERY): DeliveryChunk[] {
  const size = Math.max(1, Math.floor(maxPairs / Math.max(1, share.dispatches.length)));
  const chunks: DeliveryChunk[] = [];
  for (let lo = 0; lo < share.recipients.length; lo += size) {
    const recipients = share.recipients.slice(lo, lo + size);
    const hi = lo + recipients.length;
    const dispatches: DeliveryChunk["dispatches"] = [];
    for (const d of share.dispatches) {
      const indexes = d.recipientIndexes.filter((i) => i >= lo && i < hi).map((i) => i - lo);
      if (indexes.length === 0) continue;
      dispatches.push({ ...d, recipientIndexes: indexes.length === recipients.length ? [] : indexes });
    }
    chunks.push({ recipients, dispatches });
  }
  return chunks;
}

/**
 * One relay's part of a fan-out: bring the guild's table up to each event, keep the sessions
 * whose user may see the event's channel, group them by gateway node and hand each node one
 * DeliverBatch for the whole batch, carrying each event's bytes as the owner serialized them.
 * A gateway node that is gone gets its share delivered through another node, which keeps it
 * in the sessions' resume buffers.
 */
export class RelayFanout {
  constructor(private readonly options: RelayFanoutOptions) {}

  /** RelayService.Fanout: a batch of one. */
  async fanout(req: FanoutRequest): Promise<{ delivered: number; filtered: number }> {
    const { guildSeq, guildEvent, channelId, deliveryId, event, data, dataWithoutContent, intents, userIds, contentExemptUserIds } = req;
    return this.fanoutBatch({
      ownerId: req.ownerId,
      sessions: req.sessions,
      events: [{ guildSeq, guildEvent, channelId, deliveryId, event, data, dataWithoutContent, intents, userIds, contentExemptUserIds, toSessions: true }],
    });
  }

  async fanoutBatch(req: FanoutBatch): Promise<{ delivered: number; filtered: number }> {
    const shares = new Map<string, GatewayShare>();
    let filtered = 0;
    let filterModel: GuildModel | undefined;
    let filters = new Map<bigint, (userId: bigint) => boolean>();
    for (const event of req.events) {
      // In order: each event is filtered on the table as it was when the event happened.
      const model = await this.options.cache.at(req.ownerId, event.guildSeq, event.guildEvent);
      if (model !== filterModel || event.guildEvent) {
        filterModel = model;
        filters = new Map();
      }
      // A guild change nobody is told of: only the table needed it.
      if (event.event === "") continue;
      let visible = filters.get(event.channelId);
      if (!visible) filters.set(event.channelId, (visible = visibilityFilter(model, event.channelId)));
      const audience = event.toSessions ? [...req.sessions] : [];
      if (event.userIds.length > 0) audience.push(...(await this.options.lookupSessions(event.userIds)));
      // Users reached by id (a new member's GUILD_CREATE, a DM's recipients) are addressed on
      // purpose: only the guild's own online sessions go through the channel filter.
      const direct = new Set(event.userIds);
      const seen = new Set<string>();
      const reached = new Set<GatewayShare>();
      for (const session of audience) {
        if (seen.has(session.sessionId)) continue;
        seen.add(session.sessionId);
        if (!direct.has(session.userId) && !visible(session.userId)) {
          filtered++;
          continue;
        }
        let share = shares.get(session.gatewayInstanceId);
        if (!share) shares.set(session.gatewayInstanceId, (share = { recipients: [], index: new Map(), dispatches: [] }));
        let i = share.index.get(session.sessionId);
        if (i === undefined) {
          i = share.recipients.push({ sessionId: session.sessionId, userId: session.userId }) - 1;
          share.index.set(session.sessionId, i);
        }
        if (!reached.has(share)) {
          reached.add(share);
          const { deliveryId, data, dataWithoutContent, intents, contentExemptUserIds } = event;
          share.dispatches.push({ deliveryId, event: event.event, data, dataWithoutContent, intents, contentExemptUserIds, recipientIndexes: [] });
        }
        share.dispatches[share.dispatches.length - 1].recipientIndexes.push(i);
      }
    }
    let delivered = 0;
    await Promise.all(
      [...shares].flatMap(([gatewayId, share]) => {
        for (const d of share.dispatches) delivered += d.recipientIndexes.length;
        return chunkShare(share).map((chunk) => this.deliver(gatewayId, chunk));
      }),
    );
    return { delivered, filtered };
  }

  private async deliver(gatewayId: string, request: DeliveryChunk): Promise<void> {
    const gateways = this.options.registry.instances("gateway");
    const home = gateways.find((g) => g.id === gatewayId);
    // The session's own node first, then any other: DeliverBatch is idempotent by delivery id
    // and every node can put the events in a session's resume buffer.
    const order: ServiceInstance[] = home ? [home, ...gateways.filter((g) => g !== home)] : [...gateways];
    let last: unknown = new ConnectError("no live gateway node", Code.Unavailable);
    for (const gateway of order) {
      try {
        await this.options.clients.clientFor(GatewayService, gateway).deliverBatch(request, { timeoutMs: DELIVER_TIMEOUT_MS });
        return;
      } catch (err) {
        last = err;
        const code = ConnectError.from(err).code;
        if (code !== Code.Unavailable && code !== Code.DeadlineExceeded) throw err;
        this.options.logger.warn({ gateway: gateway.id, deliveryIds: request.dispatches.map((d) => d.deliveryId) }, "gateway unavailable; delivering through another node");
      }
    }
    throw last;
  }
}
