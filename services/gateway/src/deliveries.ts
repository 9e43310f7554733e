import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@chorus/mesh";
import type { DeliverRequest } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
import { isDispatchName } from "./frames.js";
import type { GatewayConnection } from "./gateway-connection.js";
import type { SessionStore } from "./session-store.js";

const invalid = (field: string, message: string) => new ConnectError(`${field}: ${message}`, Code.InvalidArgument);

/**
 * "+id" when a GUILD_CREATE tells a session it joined a guild, "-id" when a GUILD_DELETE
 * tells it it left (not an outage: `unavailable: true`), "" for anything else.
 */
export function guildChangeOf(event: string, data: Uint8Array): string {
  if (event !== "GUILD_CREATE" && event !== "GUILD_DELETE") return "";
  let parsed: { id?: unknown; unavailable?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(data).toString());
  } catch {
    throw invalid("data", "Not JSON.");
  }
  if (typeof parsed.id !== "string" || !/^\d{1,20}$/.test(parsed.id)) throw invalid("data.id", "A guild id is required.");
  if (event === "GUILD_DELETE" && parsed.unavailable === true) return "";
  return `${event === "GUILD_CREATE" ? "+" : "-"}${parsed.id}`;
}

/**
 * GatewayService.Deliver: one Lua step numbers the dispatch for every recipient and buffers
 * it (stored once), then the sessions this node holds get it on their socket with the same
 * `d` bytes. Sessions another node holds are poked so it writes them from the buffer.
 */
export class Deliveries {
  constructor(
    private readonly store: SessionStore,
    private readonly sessions: Map<string, GatewayConnection>,
    private readonly logger: Logger,
  ) {}

  async deliver(req: DeliverRequest): Promise<{ sent: number; buffered: number }> {
    if (req.deliveryId === "") throw invalid("delivery_id", "Required.");
    if (!isDispatchName(req.event)) throw invalid("event", "Must be a dispatch name such as MESSAGE_CREATE.");
    if (req.data.length === 0) throw invalid("data", "Required.");
    if (req.recipients.length === 0) return { sent: 0, buffered: 0 };
    const exempt = new Set(req.contentExemptUserIds);
    const outcomes = await this.store.deliver({
      deliveryId: req.deliveryId,
      event: req.event,
      data: req.data,
      dataWithoutContent: req.dataWithoutContent,
      intents: req.intents,
      targets: req.recipients.map((r) => ({ sessionId: r.sessionId, contentExempt: exempt.has(r.userId) })),
      guildChange: guildChangeOf(req.event, req.data),
    });
    const me = this.store.instanceId;
    let sent = 0;
    let buffered = 0;
    const pokes = new Map<string, string[]>();
    outcomes.forEach((outcome, i) => {
      if (outcome.seq <= 0) return;
      const sessionId = req.recipients[i].sessionId;
      const connection = this.sessions.get(sessionId);
      if (connection && outcome.instance === me) {
        connection.deliverLive(outcome.seq, req.event, outcome.withContent || req.dataWithoutContent.length === 0 ? req.data : req.dataWithoutContent);
        sent++;
        return;
      }
      buffered++;
      // Resumed on another node since: this connection is a leftover.
      if (connection) connection.supersede();
      if (outcome.instance !== "" && outcome.instance !== me) {
        let list = pokes.get(outcome.instance);
        if (!list) pokes.set(outcome.instance, (list = []));
        list.push(sessionId);
      }
    });
    for (const [instance, sessionIds] of pokes) {
      this.store.poke(instance, sessionIds).catch((err) => this.logger.warn({ err, instance }, "could not poke a gateway node"));
    }
    return { sent, buffered };
  }

  /** Another node buffered dispatches for sessions held here. */
  poked(sessionIds: readonly string[]): void {
    for (const id of sessionIds) void this.sessions.get(id)?.catchUp();
  }
}
