import { create } from "@bufbuild/protobuf";
import { OnlineSessionSchema, type OnlineSession } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { GatewayIntentBits } from "discord-api-types/v10";
import { presenceOf, type Presence } from "./presence-coalescer.js";

/** True when a session asked for other members' presences (GUILD_PRESENCES). */
export function listensToPresences(intents: number): boolean {
  return (intents & GatewayIntentBits.GuildPresences) !== 0;
}

interface Entry {
  /** As MarkOnline gave it (ListOnline, the user's presence). */
  session: OnlineSession;
  /** What fan-outs need to reach it: user, session, gateway node, intents. */
  route: OnlineSession;
}

/**
 * The online sessions of one guild, by user, each user's sessions in update order (the
 * newest one's presence is the user's). Fan-outs take two arrays of routes from it, built on
 * first use after a change and then handed out as the same instance until the next change:
 * every online session (`all`: a session coming, going or moving to another gateway node
 * changes it; a new status does not) and the sessions with GUILD_PRESENCES (`listeners`:
 * changed only when such a session comes, goes or moves). Queued fan-outs keep the arrays they
 * were given, so the arrays are never changed in place: callers must not change them either.
 */
export class OnlineSessions {
  private readonly byUser = new Map<bigint, Map<string, Entry>>();
  private sessions = 0;
  private allRoutes: readonly OnlineSession[] | undefined;
  private listenerRoutes: readonly OnlineSession[] | undefined;

  /** Users with at least one session. */
  get size(): number {
    return this.byUser.size;
  }

  get sessionCount(): number {
    return this.sessions;
  }

  has(userId: bigint): boolean {
    return this.byUser.has(userId);
  }

  users(): IterableIterator<bigint> {
    return this.byUser.keys();
  }

  /** What others see of the user now (offline without a session). */
  presence(userId: bigint): Presence {
    const sessions = this.byUser.get(userId);
    return presenceOf(sessions ? [...sessions.values()].map((e) => e.session) : []);
  }

  /** Adds a session or updates it; its presence becomes the user's. */
  upsert(session: OnlineSession): void {
    let sessions = this.byUser.get(session.userId);
    if (!sessions) this.byUser.set(session.userId, (sessions = new Map()));
    const old = sessions.get(session.sessionId);
    const sameRoute = old !== undefined && old.route.gatewayInstanceId === session.gatewayInstanceId && old.route.intents === session.intents;
    const route = sameRoute ? old.route : routeOf(session);
    // Re-inserting keeps the map in update order.
    sessions.delete(session.sessionId);
    sessions.set(session.sessionId, { session, route });
    if (!old) this.sessions++;
    if (!sameRoute) this.changed(old?.route, route);
  }

  /** Forgets a session; false when it was not online. */
  remove(userId: bigint, sessionId: string): boolean {
    const sessions = this.byUser.get(userId);
    const entry = sessions?.get(sessionId);
    if (!sessions || !entry) return false;
    sessions.delete(sessionId);
    if (sessions.size === 0) this.byUser.delete(userId);
    this.sessions--;
    this.changed(entry.route);
    return true;
  }

  /** Forgets every session of a user; false when none was online. */
  removeUser(userId: bigint): boolean {
    const sessions = this.byUser.get(userId);
    if (!sessions) return false;
    this.byUser.delete(userId);
    this.sessions -= sessions.size;
    this.changed(...[...sessions.values()].map((e) => e.route));
    return true;
  }

  /** Forgets the sessions `drop` picks; returns the users who lost one. */
  removeWhere(drop: (session: OnlineSession) => boolean): bigint[] {
    const users: bigint[] = [];
    for (const [userId, sessions] of this.byUser) {
      let lost = false;
      for (const [sessionId, entry] of sessions) {
        if (!drop(entry.session)) continue;
        sessions.delete(sessionId);
        this.sessions--;
        this.changed(entry.route);
        lost = true;
      }
      if (sessions.size === 0) this.byUser.delete(userId);
      if (lost) users.push(userId);
    }
    return users;
  }

  clear(): void {
    if (this.sessions === 0) return;
    this.byUser.clear();
    this.sessions = 0;
    this.allRoutes = undefined;
    this.listenerRoutes = undefined;
  }

  /** Every online session, as MarkOnline gave it (ListOnline). A new array each call. */
  list(): OnlineSession[] {
    const list: OnlineSession[] = [];
    for (const sessions of this.byUser.values()) for (const entry of sessions.values()) list.push(entry.session);
    return list;
  }

  /** The routes of every online session: the same array until the set changes. */
  all(): readonly OnlineSession[] {
    return (this.allRoutes ??= this.routes(() => true));
  }

  /** The routes of the sessions with GUILD_PRESENCES: the same array until one of those changes. */
  listeners(): readonly OnlineSession[] {
    return (this.listenerRoutes ??= this.routes((route) => listensToPresences(route.intents)));
  }

  private routes(keep: (route: OnlineSession) => boolean): readonly OnlineSession[] {
    const routes: OnlineSession[] = [];
    for (const sessions of this.byUser.values()) for (const { route } of sessions.values()) if (keep(route)) routes.push(route);
    return routes;
  }

  private changed(...routes: (OnlineSession | undefined)[]): void {
    this.allRoutes = undefined;
    if (routes.some((route) => route && listensToPresences(route.intents))) this.listenerRoutes = undefined;
  }
}

/** Only what reaching the session takes: fan-outs carry no status or activities. */
function routeOf(session: OnlineSession): OnlineSession {
  return create(OnlineSessionSchema, {
    userId: session.userId,
    sessionId: session.sessionId,
    gatewayInstanceId: session.gatewayInstanceId,
    intents: session.intents,
  });
}
