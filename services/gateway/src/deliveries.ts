import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@chorus/mesh";
import type { BatchedDispatch, DeliverRequest, Recipient } from "@chorus/contracts/chorus/gateway/v1/gateway_pb";
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

type Fields<T> = Omit<T, "$typeName" | "$unknown">;
/** DeliverBatchRequest's fields, without the message wrapper. */
interface DeliveryRequest {
  recipients: readonly Fields<Recipient>[];
  dispatches: readonly Fields<BatchedDispatch>[];
}

/**
 * GatewayService.Deliver and DeliverBatch: one Lua step numbers a batch of dispatches for
 * every recipient and buffers them (each payload stored once), then the sessions this node
 * holds get them on their socket with the same `d` bytes, in batch order. Sessions another
 * node holds are poked so it writes them from the buffer.
 */
export class Deliveries {
  constructor(
    private readonly store: SessionStore,
    private readonly sessions: Map<string, GatewayConnection>,
    private readonly logger: Logger,
  ) {}

  /** A batch of one. */
  async deliver(req: DeliverRequest): Promise<{ sent: number; buffered: number }> {
    const { deliveryId, event, data, dataWithoutContent, intents, contentExemptUserIds } = req;
    return this.deliverBatch({ recipients: req.recipients, dispatches: [{ deliveryId, event, data, dataWithoutContent, intents, contentExemptUserIds, recipientIndexes: [] }] });
  }

  async deliverBatch(req: DeliveryRequest): Promise<{ sent: number; buffered: number }> {
    const dispatches = req.dispatches.map((d, j) => {
      const field = req.dispatches.length === 1 && j === 0 ? "" : `dispatches.${j}.`;
      if (d.deliveryId === "") throw invalid(`${field}delivery_id`, "Required.");
      if (!isDispatchName(d.event)) throw invalid(`${field}event`, "Must be a dispatch name such as MESSAGE_CREATE.");
      if (d.data.length === 0) throw invalid(`${field}data`, "Required.");
      for (const [k, i] of d.recipientIndexes.entries()) {
        if (i >= req.recipients.length) throw invalid(`${field}recipient_indexes.${k}`, "Out of range.");
      }
      const targets = d.recipientIndexes.length > 0 ? d.recipientIndexes : undefined;
      const exempt = new Set(d.contentExemptUserIds);
      const contentExempt: number[] = [];
      if (exempt.size > 0) req.recipients.forEach((r, i) => exempt.has(r.userId) && contentExempt.push(i));
      return {
        deliveryId: d.deliveryId,
        event: d.event,
        data: d.data,
        dataWithoutContent: d.dataWithoutContent,
        intents: d.intents,
        targets,
        contentExempt,
        guildChange: guildChangeOf(d.event, d.data),
      };
    });
    if (req.recipients.length === 0 || dispatches.length === 0) return { sent: 0, buffered: 0 };
    const results = await this.store.deliverBatch({ sessionIds: req.recipients.map((r) => r.sessionId), dispatches });
    const me = this.store.instanceId;
    let sent = 0;
    let buffered = 0;
    const pokes = new Map<string, string[]>();
    results.forEach((result, i) => {
      const numbered = result.seqs.reduce((n, seq) => (seq > 0 ? n + 1 : n), 0);
      if (numbered === 0) return;
      const sessionId = req.recipients[i].sessionId;
      const connection = this.sessions.get(sessionId);
      if (connection && result.instance === me) {
        const live: { seq: number; event: string; data: Uint8Array }[] = [];
        result.seqs.forEach((seq, j) => {
          if (seq <= 0) return;
          const d = dispatches[j];
          live.push({ seq, event: d.event, data: result.withContent[j] || d.dataWithoutContent.length === 0 ? d.data : d.dataWithoutContent });
        });
        connection.deliverLiveBatch(live);
        sent += numbered;
        return;
      }
      buffered += numbered;
      // Resumed on another node since: this connection is a leftover.
      if (connection) connection.supersede();
      if (result.instance !== "" && result.instance !== me) {
        let list = pokes.get(result.instance);
        if (!list) pokes.set(result.instance, (list = []));
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
