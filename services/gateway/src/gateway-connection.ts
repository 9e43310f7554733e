import { randomBytes } from "node:crypto";
import type { WebSocket } from "ws";
import type { Logger } from "@chorus/mesh";
import { discordCurrentUser } from "@chorus/discord-json/users";
import {
  CloseCode,
  LARGE_THRESHOLD,
  MAX_PAYLOAD_BYTES,
  Op,
  parseIdentify,
  parsePayload,
  parseResume,
  shardOf,
  validShard,
  type GatewayPayload,
  type IdentifyData,
  type ResumeData,
} from "./gateway-protocol.js";
import { controlFrame, dispatchFrame } from "./frames.js";
import { checkIntents, seesContent, seesPresences } from "./intents.js";
import { SendRateLimiter } from "./rate-limiter.js";
import { ZlibStream } from "./zlib-stream.js";
import type { Authenticator, Identity } from "./identity.js";
import type { GuildSnapshots } from "./guild-snapshots.js";
import { parsePresence, type GuildPresence } from "./guild-presence.js";
import { parseMemberRequest, type MemberChunks } from "./member-chunks.js";
import { deliverOne, type SessionStore } from "./session-store.js";
import type { SessionStartCounter } from "./session-start-limit.js";

/** What every connection of a gateway node shares. */
export interface GatewayContext {
  heartbeatIntervalMs: number;
  resumeWindowMs: number;
  rateLimit: number;
  /** URL announced as resume_gateway_url. */
  publicUrl(): string;
  store: SessionStore;
  /** Bots' IDENTIFYs per 24 h (session_start_limit). */
  startLimit: SessionStartCounter;
  auth: Authenticator;
  snapshots: GuildSnapshots;
  presence: GuildPresence;
  memberChunks: MemberChunks;
  /** Sessions attached to this node, by session id. */
  sessions: Map<string, GatewayConnection>;
  /** Ends detached sessions whose time is up now (a client's normal close). */
  sweepSoon(): void;
  /** Tracks work a drain must wait for (detaches). */
  track(work: Promise<unknown>): void;
  logger: Logger;
}

interface AttachedSession {
  id: string;
  userId: bigint;
  gen: number;
  bot: boolean;
  intents: number;
  guilds: Set<bigint>;
}

interface PendingDispatch {
  seq: number;
  event: string;
  data: Uint8Array;
}

/** GUILD_CREATEs rendered at once while a session starts. */
const GUILD_CREATE_CONCURRENCY = 4;

type State = "new" | "identifying" | "resuming" | "ready" | "closed";

/**
 * One WebSocket connection speaking Discord's v10 gateway protocol. After IDENTIFY or RESUME
 * it carries a session: dispatches come numbered from the session store (`deliverLive`);
 * a dispatch that skips a number (it went through another node, or came while the session
 * was being resumed) makes the connection read the missing ones from the store first, so
 * the client always sees `s` increase by one.
 */
export class GatewayConnection {
  private state: State = "new";
  private session?: AttachedSession;
  private readonly limiter: SendRateLimiter;
  private readonly zlib?: ZlibStream;
  private lastBeat = Date.now();
  private readonly zombieCheck: NodeJS.Timeout;
  private closingByServer = false;
  /** Taken over by another connection: its close must not detach the session. */
  private superseded = false;
  private lastSentSeq = 0;
  private catchingUp = false;
  private catchUpAgain = false;
  private queued: PendingDispatch[] = [];
  private ownDispatches = 0;

  constructor(
    private readonly socket: WebSocket,
    compress: boolean,
    private readonly ctx: GatewayContext,
    /** The TCP socket under the WebSocket: corked while a batch is written, so it goes out in one write. */
    private readonly transport?: { cork(): void; uncork(): void },
  ) {
    this.limiter = new SendRateLimiter(ctx.rateLimit);
    if (compress) this.zlib = new ZlibStream();
    // A client that misses a heartbeat interval plus grace is a zombie: drop it.
    this.zombieCheck = setInterval(() => {
      if (Date.now() - this.lastBeat > ctx.heartbeatIntervalMs * 1.5) this.close(CloseCode.SessionTimedOut, "Session timed out");
    }, ctx.heartbeatIntervalMs);
    socket.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on("close", (code) => this.onClose(code));
    socket.on("error", (err) => ctx.logger.debug({ err }, "gateway socket error"));
    this.write(controlFrame(Op.Hello, { heartbeat_interval: ctx.heartbeatIntervalMs }));
  }

  /** A method, not a field read, so that TypeScript does not narrow it across awaits. */
  private isClosed(): boolean {
    return this.state === "closed";
  }

  get sessionId(): string | undefined {
    return this.session?.id;
  }

  // --- output ------------------------------------------------------------------------------

  private write(frame: Buffer): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.zlib) this.zlib.compress(frame, (out) => this.socket.readyState === this.socket.OPEN && this.socket.send(out, { binary: true }));
    else this.socket.send(frame, { binary: false });
  }

  private close(code: number, reason: string): void {
    this.closingByServer = true;
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }

  /** Writes one numbered dispatch, and applies what it changes to the session. */
  private writeDispatch(seq: number, event: string, data: Uint8Array): void {
    this.lastSentSeq = seq;
    this.write(dispatchFrame(event, seq, Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
    if (event === "GUILD_CREATE" || event === "GUILD_DELETE") this.guildChanged(event, data);
  }

  /**
   * A dispatch numbered for this session by the store. Written at once when it is the next
   * one; queued behind a catch-up when numbers are missing before it.
   */
  deliverLive(seq: number, event: string, data: Uint8Array): void {
    if (this.state === "closed") return;
    if (this.catchingUp) {
      this.queued.push({ seq, event, data });
      return;
    }
    if (seq <= this.lastSentSeq) return;
    if (seq === this.lastSentSeq + 1) {
      this.writeDispatch(seq, event, data);
      return;
    }
    this.queued.push({ seq, event, data });
    void this.catchUp();
  }

  /** Several numbered dispatches at once (a batch): as deliverLive, in one write to the socket. */
  deliverLiveBatch(dispatches: readonly { seq: number; event: string; data: Uint8Array }[]): void {
    this.transport?.cork();
    try {
      for (const d of dispatches) this.deliverLive(d.seq, d.event, d.data);
    } finally {
      this.transport?.uncork();
    }
  }

  /** Reads what this session missed from the store (pokes from other nodes, gaps), then what queued meanwhile. */
  async catchUp(): Promise<void> {
    if (!this.session || this.state === "closed") return;
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    this.catchingUp = true;
    try {
      do {
        this.catchUpAgain = false;
        await this.replayFromStore();
      } while (this.catchUpAgain);
    } catch (err) {
      this.ctx.logger.warn({ err, sessionId: this.session.id }, "could not read a session's missed dispatches");
    } finally {
      this.catchingUp = false;
      this.flushQueued();
    }
  }

  private async replayFromStore(): Promise<void> {
    const missed = await this.ctx.store.readAfter(this.session!.id, this.lastSentSeq);
    if (missed) {
      for (const d of missed) if (d.seq === this.lastSentSeq + 1) this.writeDispatch(d.seq, d.event, d.data);
      return;
    }
    // The buffer lost them (trimmed or expired): go on from what is queued rather than stall.
    const next = Math.min(...this.queued.map((q) => q.seq));
    if (Number.isFinite(next)) {
      this.ctx.logger.warn({ sessionId: this.session!.id, from: this.lastSentSeq + 1, to: next - 1 }, "dispatches lost from a session's buffer");
      this.lastSentSeq = next - 1;
    }
  }

  private flushQueued(): void {
    const queued = this.queued.sort((a, b) => a.seq - b.seq);
    this.queued = [];
    for (const [i, q] of queued.entries()) {
      if (q.seq <= this.lastSentSeq) continue;
      if (q.seq !== this.lastSentSeq + 1) {
        this.queued = queued.slice(i);
        void this.catchUp();
        return;
      }
      this.writeDispatch(q.seq, q.event, q.data);
    }
  }

  /** Another connection resumed this session: leave without detaching it. */
  supersede(): void {
    this.superseded = true;
    this.close(CloseCode.SessionTimedOut, "Session resumed elsewhere");
  }

  /** Drain: ask the client to reconnect (and resume elsewhere); closes after `graceMs` if it does not. */
  reconnect(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState !== this.socket.OPEN) return resolve();
      this.socket.once("close", () => resolve());
      this.write(controlFrame(Op.Reconnect));
      setTimeout(() => this.close(CloseCode.UnknownError, "Reconnect"), graceMs).unref();
    });
  }

  // --- input -------------------------------------------------------------------------------

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === "closed") return;
    if (!this.limiter.take()) {
      this.close(CloseCode.RateLimited, "You are being rate limited.");
      return;
    }
    if (isBinary || data.length > MAX_PAYLOAD_BYTES) {
      this.close(CloseCode.DecodeError, "Error while decoding payload.");
      return;
    }
    const payload = parsePayload(data.toString());
    if (!payload) {
      this.close(CloseCode.DecodeError, "Error while decoding payload.");
      return;
    }
    this.handle(payload);
  }

  private handle(payload: GatewayPayload): void {
    switch (payload.op) {
      case Op.Heartbeat:
        this.lastBeat = Date.now();
        this.write(controlFrame(Op.HeartbeatAck));
        if (this.session && this.state === "ready") void this.ctx.store.refresh(this.session.id, this.session.userId).catch(() => {});
        return;
      case Op.Identify:
        if (this.state !== "new") return this.close(CloseCode.AlreadyAuthenticated, "You sent more than one identify payload.");
        void this.run(() => this.identify(payload.d));
        return;
      case Op.Resume:
        if (this.state !== "new") return this.close(CloseCode.AlreadyAuthenticated, "Already authenticated.");
        void this.run(() => this.resume(payload.d));
        return;
      case Op.PresenceUpdate: {
        if (this.state !== "ready") return this.close(CloseCode.NotAuthenticated, "You sent a payload prior to identifying.");
        const presence = parsePresence(payload.d);
        if (!presence) return this.close(CloseCode.DecodeError, "Error while decoding payload.");
        const session = this.session!;
        this.ctx.presence.setPresence(session.id, presence);
        // Guild owners send PRESENCE_UPDATE to the members who want it.
        void forEachLimited([...session.guilds], GUILD_CREATE_CONCURRENCY, (guildId) => this.ctx.presence.markOnline(guildId, session.userId, session.id, session.intents));
        return;
      }
      case Op.VoiceStateUpdate:
        // Accepted and not acted on yet (voice comes later).
        if (this.state !== "ready") this.close(CloseCode.NotAuthenticated, "You sent a payload prior to identifying.");
        return;
      case Op.RequestGuildMembers:
        if (this.state !== "ready") return this.close(CloseCode.NotAuthenticated, "You sent a payload prior to identifying.");
        void this.requestMembers(payload.d);
        return;
      default:
        this.close(CloseCode.UnknownOpcode, "Unknown opcode.");
    }
  }

  private async run(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.ctx.logger.error({ err }, "gateway session setup failed");
      this.close(CloseCode.UnknownError, "Unknown error.");
    }
  }

  private async identify(d: unknown): Promise<void> {
    this.state = "identifying";
    const identify = parseIdentify(d);
    if (!identify) return this.close(CloseCode.DecodeError, "Error while decoding payload.");
    if (identify.shard && !validShard(identify.shard)) return this.close(CloseCode.InvalidShard, "Invalid shard.");
    const identity = await this.ctx.auth.authenticate(identify.token);
    if (this.state !== "identifying") return;
    if (!identity) return this.close(CloseCode.AuthenticationFailed, "Authentication failed.");
    const refused = checkIntents(identify.intents, identity);
    if (refused !== undefined) {
      return this.close(refused, refused === CloseCode.InvalidIntents ? "Invalid intent(s)." : "Disallowed intent(s).");
    }
    // A bot past its session start limit: Discord resets its token, so its IDENTIFYs fail
    // with 4004 until it has a new one; here until the window resets.
    if (identity.bot && !(await this.ctx.startLimit.take(identity.user.id)).allowed) {
      return this.close(CloseCode.AuthenticationFailed, "Session start limit reached.");
    }
    if (this.state !== "identifying") return;
    await this.startSession(identify, identity);
  }

  private async startSession(identify: IdentifyData, identity: Identity): Promise<void> {
    const { ctx } = this;
    const userId = identity.user.id;
    const shard = identify.shard;
    const guildIds = (await ctx.snapshots.guildIdsOf(userId)).filter((g) => !shard || shardOf(g, shard[1]) === shard[0]);
    if (this.state !== "identifying") return;
    const sessionId = randomBytes(16).toString("hex");
    // IDENTIFY's presence is the session's first one (a malformed one is ignored, as Discord).
    const presence = identify.presence === undefined ? undefined : parsePresence(identify.presence);
    if (presence) ctx.presence.setPresence(sessionId, presence);
    const ready = {
      v: 10,
      user: discordCurrentUser(identity.user),
      guilds: guildIds.map((id) => ({ id: id.toString(), unavailable: true })),
      session_id: sessionId,
      session_type: "normal",
      resume_gateway_url: ctx.publicUrl(),
      private_channels: [],
      relationships: [],
      presences: [],
      ...(shard ? { shard } : {}),
      // discord.js needs it; a bot's application has the bot's id.
      ...(identity.bot ? { application: { id: userId.toString(), flags: Number(identity.applicationFlags) } } : {}),
    };
    const readyData = Buffer.from(JSON.stringify(ready));
    await ctx.store.create({
      sessionId,
      userId,
      intents: identify.intents,
      content: seesContent(identify.intents, identity.bot),
      bot: identity.bot,
      shard,
      guildIds,
      ready: { deliveryId: `${sessionId}:ready`, data: readyData },
    });
    this.session = { id: sessionId, userId, gen: 1, bot: identity.bot, intents: identify.intents, guilds: new Set(guildIds) };
    // Gone while identifying: the session is resumable like any other.
    if (this.isClosed()) return this.detach(false);
    ctx.sessions.set(sessionId, this);
    this.state = "ready";
    this.deliverLive(1, "READY", readyData);
    // Dispatches buffered between create() and attaching here (none written yet) come next.
    void this.catchUp();
    const largeThreshold = Math.min(LARGE_THRESHOLD.max, Math.max(LARGE_THRESHOLD.min, identify.large_threshold ?? LARGE_THRESHOLD.default));
    await forEachLimited(guildIds, GUILD_CREATE_CONCURRENCY, async (guildId) => {
      // Online first, then the snapshot: a change made in between is in the snapshot, or
      // arrives as an event after it.
      if (!(await ctx.presence.markOnline(guildId, userId, sessionId, identify.intents))) return;
      if (this.state !== "ready") return;
      try {
        await this.dispatchOwn("GUILD_CREATE", await ctx.snapshots.guildCreate(guildId, userId, largeThreshold, seesPresences(identify.intents)));
      } catch (err) {
        ctx.logger.warn({ err, guildId: String(guildId) }, "could not render GUILD_CREATE; the guild stays unavailable");
      }
    });
  }

  /** REQUEST_GUILD_MEMBERS: GUILD_MEMBERS_CHUNKs of a guild the session is in (others are ignored, as Discord does). */
  private async requestMembers(d: unknown): Promise<void> {
    const request = parseMemberRequest(d);
    if (!request) return this.close(CloseCode.DecodeError, "Error while decoding payload.");
    const session = this.session!;
    if (!session.guilds.has(BigInt(request.guild_id))) return;
    try {
      for (const chunk of await this.ctx.memberChunks.chunks(request, session.userId, seesPresences(session.intents))) await this.dispatchOwn("GUILD_MEMBERS_CHUNK", chunk);
    } catch (err) {
      this.ctx.logger.warn({ err, guildId: request.guild_id }, "could not answer REQUEST_GUILD_MEMBERS");
    }
  }

  /** A dispatch this node produces for its own session (GUILD_CREATE...): numbered and buffered like any other. */
  private async dispatchOwn(event: string, data: Buffer): Promise<void> {
    const session = this.session!;
    const [outcome] = await deliverOne(this.ctx.store, {
      deliveryId: `${session.id}:${++this.ownDispatches}`,
      event,
      data,
      dataWithoutContent: new Uint8Array(),
      intents: 0,
      targets: [{ sessionId: session.id, contentExempt: true }],
    });
    if (outcome.seq > 0) this.deliverLive(outcome.seq, event, data);
  }

  private async resume(d: unknown): Promise<void> {
    this.state = "resuming";
    const resume = parseResume(d);
    if (!resume) return this.close(CloseCode.DecodeError, "Error while decoding payload.");
    const identity = await this.ctx.auth.authenticate(resume.token);
    if (this.state !== "resuming") return;
    if (!identity) return this.close(CloseCode.AuthenticationFailed, "Authentication failed.");
    await this.resumeSession(resume, identity);
  }

  private invalidSession(): void {
    this.state = "new";
    this.write(controlFrame(Op.InvalidSession, false));
  }

  private async resumeSession(resume: ResumeData, identity: Identity): Promise<void> {
    const { ctx } = this;
    // Dispatches arriving while the buffer is read wait behind it.
    this.catchingUp = true;
    const stored = await ctx.store.takeOver(resume.session_id, identity.user.id);
    if (!stored) {
      this.catchingUp = false;
      this.queued = [];
      return this.invalidSession();
    }
    const sessionId = resume.session_id;
    this.session = { id: sessionId, userId: stored.userId, gen: stored.gen, bot: stored.bot, intents: stored.intents, guilds: new Set(stored.guildIds) };
    // Gone while resuming: still resumable.
    if (this.isClosed()) return this.detach(false);
    ctx.sessions.get(sessionId)?.supersede();
    ctx.sessions.set(sessionId, this);
    this.lastSentSeq = resume.seq ?? 0;
    const missed = await ctx.store.readAfter(sessionId, this.lastSentSeq);
    if (this.isClosed()) return;
    if (!missed) {
      // The buffer no longer holds everything after seq: the session ends now.
      ctx.sessions.delete(sessionId);
      this.session = undefined;
      this.catchingUp = false;
      this.queued = [];
      ctx.track(ctx.store.detach(sessionId, stored.gen, Date.now()).then(() => ctx.sweepSoon()));
      return this.invalidSession();
    }
    this.state = "ready";
    for (const dispatch of missed) this.writeDispatch(dispatch.seq, dispatch.event, dispatch.data);
    this.write(Buffer.from(`{"op":0,"t":"RESUMED","s":${this.lastSentSeq},"d":{}}`));
    this.catchingUp = false;
    this.flushQueued();
    // Guild owners route this session's events to this node from now on.
    await forEachLimited(stored.guildIds, GUILD_CREATE_CONCURRENCY, (guildId) => ctx.presence.markOnline(guildId, stored.userId, sessionId, stored.intents));
  }

  /** A GUILD_CREATE (joined) or GUILD_DELETE (left, kicked, banned; not an outage) changes the session's guilds. */
  private guildChanged(event: string, data: Uint8Array): void {
    const session = this.session!;
    let parsed: { id?: unknown; unavailable?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(data).toString());
    } catch {
      return;
    }
    if (typeof parsed.id !== "string" || !/^\d{1,20}$/.test(parsed.id)) return;
    const guildId = BigInt(parsed.id);
    if (event === "GUILD_CREATE" && !session.guilds.has(guildId)) {
      session.guilds.add(guildId);
      void this.ctx.presence.markOnline(guildId, session.userId, session.id, session.intents);
    } else if (event === "GUILD_DELETE" && parsed.unavailable !== true && session.guilds.delete(guildId)) {
      void this.ctx.presence.markOffline(guildId, session.userId, session.id);
    }
  }

  // --- end ---------------------------------------------------------------------------------

  private onClose(code: number): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearInterval(this.zombieCheck);
    this.zlib?.close();
    // As Discord: a client closing with 1000/1001 ends its session; any other close leaves
    // it resumable for the resume window.
    this.detach(!this.closingByServer && (code === 1000 || code === 1001));
  }

  /**
   * Marks the session online again on the guilds whose owner may have changed (a guild node
   * joined or left): the new owner builds its online list from these announcements.
   */
  reannounce(ownerChanged: (guildId: bigint) => boolean): void {
    const session = this.session;
    if (!session || this.state !== "ready") return;
    const guilds = [...session.guilds].filter(ownerChanged);
    void forEachLimited(guilds, GUILD_CREATE_CONCURRENCY, (guildId) => this.ctx.presence.markOnline(guildId, session.userId, session.id, session.intents));
  }

  private detach(ended: boolean): void {
    const session = this.session;
    if (!session || this.superseded) return;
    this.ctx.presence.forget(session.id);
    if (this.ctx.sessions.get(session.id) === this) this.ctx.sessions.delete(session.id);
    const endsAt = Date.now() + (ended ? 0 : this.ctx.resumeWindowMs);
    this.ctx.track(
      this.ctx.store
        .detach(session.id, session.gen, endsAt)
        .then((detached) => detached && ended && this.ctx.sweepSoon())
        .catch((err) => this.ctx.logger.warn({ err, sessionId: session.id }, "could not detach a session")),
    );
  }
}

/** Runs `work` on every item, at most `limit` at once. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
