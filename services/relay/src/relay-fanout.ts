import { Code, ConnectError } from "@connectrpc/connect";
import { GatewayService } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import type { OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import type { FanoutRequest } from "@chorus/contracts/chorus/relay/v1/relay_pb";
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

/**
 * One relay's part of a fan-out: bring the guild's table up to the event, keep the sessions
 * whose user may see the channel, group them by gateway node and hand each node one Deliver
 * carrying the event bytes as the owner serialized them. A gateway node that is gone gets its
 * share delivered through another node, which keeps it in the sessions' resume buffers.
 */
export class RelayFanout {
  constructor(private readonly options: RelayFanoutOptions) {}

  async fanout(req: FanoutRequest): Promise<{ delivered: number; filtered: number }> {
    const model = await this.options.cache.at(req.ownerId, req.guildSeq, req.guildEvent);
    // A guild change nobody is told of: only the table needed it.
    if (req.event === "") return { delivered: 0, filtered: 0 };
    const sessions = [...req.sessions];
    if (req.userIds.length > 0) sessions.push(...(await this.options.lookupSessions(req.userIds)));
    // Users reached by id (a new member's GUILD_CREATE, a DM's recipients) are addressed on
    // purpose: only the guild's own online sessions go through the channel filter.
    const direct = new Set(req.userIds);
    const visible = visibilityFilter(model, req.channelId);
    const byGateway = new Map<string, { sessionId: string; userId: bigint }[]>();
    const seen = new Set<string>();
    let filtered = 0;
    for (const session of sessions) {
      if (seen.has(session.sessionId)) continue;
      seen.add(session.sessionId);
      if (!direct.has(session.userId) && !visible(session.userId)) {
        filtered++;
        continue;
      }
      let group = byGateway.get(session.gatewayInstanceId);
      if (!group) byGateway.set(session.gatewayInstanceId, (group = []));
      group.push({ sessionId: session.sessionId, userId: session.userId });
    }
    let delivered = 0;
    await Promise.all(
      [...byGateway].map(async ([gatewayId, recipients]) => {
        await this.deliver(gatewayId, req, recipients);
        delivered += recipients.length;
      }),
    );
    return { delivered, filtered };
  }

  private async deliver(gatewayId: string, req: FanoutRequest, recipients: { sessionId: string; userId: bigint }[]): Promise<void> {
    const request = {
      deliveryId: req.deliveryId,
      event: req.event,
      data: req.data,
      dataWithoutContent: req.dataWithoutContent,
      intents: req.intents,
      recipients,
      contentExemptUserIds: req.contentExemptUserIds,
    };
    const gateways = this.options.registry.instances("gateway");
    const home = gateways.find((g) => g.id === gatewayId);
    // The session's own node first, then any other: Deliver is idempotent by delivery_id and
    // every node can put the event in a session's resume buffer.
    const order: ServiceInstance[] = home ? [home, ...gateways.filter((g) => g !== home)] : [...gateways];
    let last: unknown = new ConnectError("no live gateway node", Code.Unavailable);
    for (const gateway of order) {
      try {
        await this.options.clients.clientFor(GatewayService, gateway).deliver(request);
        return;
      } catch (err) {
        last = err;
        const code = ConnectError.from(err).code;
        if (code !== Code.Unavailable && code !== Code.DeadlineExceeded) throw err;
        this.options.logger.warn({ gateway: gateway.id, deliveryId: req.deliveryId }, "gateway unavailable; delivering through another node");
      }
    }
    throw last;
  }
}
