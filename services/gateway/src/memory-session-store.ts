import { EventEmitter } from "node:events";
import { offerMemoryDirectory, type UserSession } from "@chorus/session-directory";
import type {
  BufferedDispatch,
  DeliveryBatch,
  EndedSession,
  NewSession,
  SessionDeliveries,
  SessionStore,
  StoredSession,
} from "./session-store.js";

interface MemorySession {
  userId: bigint;
  intents: number;
  content: boolean;
  bot: boolean;
  shard?: [number, number];
  instance: string;
  gen: number;
  seq: number;
  guilds: Set<bigint>;
  buffer: { seq: number; deliveryId: string; withContent: boolean }[];
}

interface MemoryDelivery {
  event: string;
  data: Buffer;
  dataWithoutContent?: Buffer;
  recipients: Set<string>;
  expiresAt: number;
}

/** One data set per key prefix, shared by every store of the process (the gateway's and the relays' lookups). */
class MemorySpace {
  readonly sessions = new Map<string, MemorySession>();
  readonly deliveries = new Map<string, MemoryDelivery>();
  readonly users = new Map<bigint, Map<string, string>>();
  readonly detached = new Map<string, number>();
  readonly alive = new Map<string, number>();
  readonly pokes = new EventEmitter();
}

const spaces = new Map<string, MemorySpace>();
function space(prefix: string): MemorySpace {
  let found = spaces.get(prefix);
  if (!found) {
    spaces.set(prefix, (found = new MemorySpace()));
    // Relays and push of this process read the users → sessions directory from here.
    offerMemoryDirectory(prefix, (userIds) => lookupMemorySessions(prefix, userIds));
  }
  return found;
}

/** The in-process users → sessions directory of embedded mode (see @chorus/session-directory). */
export function lookupMemorySessions(prefix: string, userIds: readonly bigint[]): UserSession[] {
  const { users, sessions } = space(prefix);
  const out: UserSession[] = [];
  for (const userId of new Set(userIds)) {
    for (const [sessionId, gatewayInstanceId] of users.get(userId) ?? []) {
      if (sessions.has(sessionId)) out.push({ userId, sessionId, gatewayInstanceId });
    }
  }
  return out;
}

export interface MemorySessionStoreOptions {
  prefix: string;
  instanceId: string;
  bufferSize: number;
  ttlSeconds: number;
}

/**
 * The session store of embedded mode, where there is no Redis: the same semantics as
 * RedisSessionStore (the conformance suite runs on both), in this process's memory. Every
 * method body is synchronous, so each is atomic as the Redis scripts are.
 */
export class MemorySessionStore implements SessionStore {
  private readonly space: MemorySpace;

  constructor(private readonly options: MemorySessionStoreOptions) {
    this.space = space(options.prefix);
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  private setDirectory(userId: bigint, sessionId: string, instance: string): void {
    let entries = this.space.users.get(userId);
    if (!entries) this.space.users.set(userId, (entries = new Map()));
    entries.set(sessionId, instance);
  }

  async create(session: NewSession): Promise<void> {
    this.space.sessions.set(session.sessionId, {
      userId: session.userId,
      intents: session.intents,
      content: session.content,
      bot: session.bot,
      shard: session.shard,
      instance: this.options.instanceId,
      gen: 1,
      seq: 1,
      guilds: new Set(session.guildIds),
      buffer: [{ seq: 1, deliveryId: session.ready.deliveryId, withContent: true }],
    });
    this.space.deliveries.set(session.ready.deliveryId, {
      event: "READY",
      data: Buffer.from(session.ready.data),
      recipients: new Set([session.sessionId]),
      expiresAt: Date.now() + this.options.ttlSeconds * 1000,
    });
    this.setDirectory(session.userId, session.sessionId, this.options.instanceId);
  }

  async deliverBatch(batch: DeliveryBatch): Promise<SessionDeliveries[]> {
    const now = Date.now();
    const results = batch.sessionIds.map((sessionId): SessionDeliveries => {
      const session = this.space.sessions.get(sessionId);
      return { instance: session?.instance ?? "", seqs: [], withContent: [] };
    });
    // Dispatch by dispatch in one synchronous step: each session's share comes out numbered
    // consecutively in the batch's order, as the Redis script does.
    for (const dispatch of batch.dispatches) {
      let stored = this.space.deliveries.get(dispatch.deliveryId);
      if (stored && stored.expiresAt <= now) stored = undefined;
      const record: MemoryDelivery = stored ?? {
        event: dispatch.event,
        data: Buffer.from(dispatch.data),
        dataWithoutContent: dispatch.dataWithoutContent.length > 0 ? Buffer.from(dispatch.dataWithoutContent) : undefined,
        recipients: new Set(),
        expiresAt: now + this.options.ttlSeconds * 1000,
      };
      const targets = dispatch.targets ? new Set(dispatch.targets) : undefined;
      const exempt = new Set(dispatch.contentExempt ?? []);
      const change = dispatch.guildChange ?? "";
      batch.sessionIds.forEach((sessionId, i) => {
        const result = results[i];
        const session = this.space.sessions.get(sessionId);
        const wanted = session && (!targets || targets.has(i)) && (dispatch.intents === 0 || (session.intents & dispatch.intents) !== 0);
        if (!wanted) {
          result.seqs.push(0);
          result.withContent.push(true);
          return;
        }
        if (record.recipients.has(sessionId)) {
          result.seqs.push(-1);
          result.withContent.push(true);
          return;
        }
        record.recipients.add(sessionId);
        const withContent = !record.dataWithoutContent || session.content || exempt.has(i);
        const seq = ++session.seq;
        session.buffer.push({ seq, deliveryId: dispatch.deliveryId, withContent });
        if (session.buffer.length > this.options.bufferSize) session.buffer.splice(0, session.buffer.length - this.options.bufferSize);
        if (change) {
          const guildId = BigInt(change.slice(1));
          if (change.startsWith("+")) session.guilds.add(guildId);
          else session.guilds.delete(guildId);
        }
        result.seqs.push(seq);
        result.withContent.push(withContent);
      });
      if (record.recipients.size > 0) this.space.deliveries.set(dispatch.deliveryId, record);
    }
    return results;
  }

  async takeOver(sessionId: string, userId: bigint): Promise<StoredSession | undefined> {
    const session = this.space.sessions.get(sessionId);
    if (!session || session.userId !== userId) return undefined;
    const previousInstance = session.instance;
    session.gen += 1;
    session.instance = this.options.instanceId;
    this.space.detached.delete(sessionId);
    this.setDirectory(userId, sessionId, this.options.instanceId);
    return {
      userId,
      previousInstance,
      gen: session.gen,
      intents: session.intents,
      content: session.content,
      bot: session.bot,
      shard: session.shard,
      seq: session.seq,
      guildIds: [...session.guilds],
    };
  }

  async readAfter(sessionId: string, afterSeq: number): Promise<BufferedDispatch[] | undefined> {
    const session = this.space.sessions.get(sessionId);
    if (!session) return undefined;
    const wanted = session.buffer.filter((e) => e.seq > afterSeq);
    if (wanted.length === 0) return session.seq === afterSeq ? [] : undefined;
    if (wanted[0].seq !== afterSeq + 1) return undefined;
    const now = Date.now();
    const out: BufferedDispatch[] = [];
    for (const e of wanted) {
      const delivery = this.space.deliveries.get(e.deliveryId);
      const data = e.withContent ? delivery?.data : delivery?.dataWithoutContent;
      if (!delivery || !data || delivery.expiresAt <= now) return undefined;
      out.push({ seq: e.seq, event: delivery.event, data });
    }
    return out;
  }

  async detach(sessionId: string, gen: number, endsAt: number): Promise<boolean> {
    const session = this.space.sessions.get(sessionId);
    if (!session || session.instance !== this.options.instanceId || session.gen !== gen) return false;
    session.instance = "";
    this.space.detached.set(sessionId, endsAt);
    this.setDirectory(session.userId, sessionId, "");
    return true;
  }

  async sweep(now: number, adoptedEndAt: number, forcedInstance = "", limit = 200): Promise<EndedSession[]> {
    const { sessions, detached, alive, deliveries, users } = this.space;
    const clock = Date.now();
    const dead = (instance: string) => instance !== "" && (instance === forcedInstance || (alive.get(instance) ?? 0) <= clock);
    for (const [sessionId, session] of sessions) {
      if (dead(session.instance)) {
        session.instance = "";
        detached.set(sessionId, adoptedEndAt);
        this.setDirectory(session.userId, sessionId, "");
      }
    }
    const ended: EndedSession[] = [];
    for (const [sessionId, endsAt] of detached) {
      if (ended.length >= limit) break;
      if (endsAt > now) continue;
      detached.delete(sessionId);
      const session = sessions.get(sessionId);
      if (!session || session.instance !== "") continue;
      sessions.delete(sessionId);
      users.get(session.userId)?.delete(sessionId);
      if (users.get(session.userId)?.size === 0) users.delete(session.userId);
      ended.push({ sessionId, userId: session.userId, guildIds: [...session.guilds] });
    }
    for (const [id, delivery] of deliveries) if (delivery.expiresAt <= clock) deliveries.delete(id);
    return ended;
  }

  async refresh(): Promise<void> {}

  async markAlive(ttlSeconds: number): Promise<void> {
    this.space.alive.set(this.options.instanceId, Date.now() + ttlSeconds * 1000);
  }

  async markGone(): Promise<void> {
    this.space.alive.delete(this.options.instanceId);
  }

  async poke(instanceId: string, sessionIds: readonly string[]): Promise<void> {
    this.space.pokes.emit(instanceId, [...sessionIds]);
  }

  async onPoke(handler: (sessionIds: string[]) => void): Promise<void> {
    this.space.pokes.on(this.options.instanceId, handler);
  }

  async lookupUsers(userIds: readonly bigint[]): Promise<UserSession[]> {
    return lookupMemorySessions(this.options.prefix, userIds);
  }

  async close(): Promise<void> {
    this.space.pokes.removeAllListeners(this.options.instanceId);
  }
}
