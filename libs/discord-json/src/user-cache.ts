import { create } from "@bufbuild/protobuf";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import type { UserLookup } from "./guilds.js";

/** What Discord shows for an account that no longer exists. */
export function deletedUser(userId: bigint): User {
  return create(UserSchema, { id: userId, username: `deleted_user_${userId.toString(16)}`, globalName: "Deleted User" });
}

/** Reads one account; undefined when there is no such account. */
export type FetchUser = (userId: bigint) => Promise<User | undefined>;

export interface UserCacheOptions {
  /** How long a fetched user is shown before it is read again (default 30 s). */
  ttlMs?: number;
  /** Oldest entries leave past this many (default 50,000). */
  maxEntries?: number;
}

/**
 * Users as responses and dispatches show them (authors, members, inviters), fetched once and
 * kept briefly: a busy channel's authors cost one lookup per TTL, not one per message. A
 * profile changed elsewhere shows up once its entry expires; `forget` drops it at once.
 * An account that is gone renders as Discord's deleted user.
 */
export class UserCache {
  private readonly entries = new Map<bigint, { user: User; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly fetchUser: FetchUser,
    options: UserCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 50_000;
  }

  /** Fetches what is missing or stale (in parallel), then answers synchronously for these ids. */
  async lookup(userIds: Iterable<bigint>): Promise<UserLookup> {
    const now = Date.now();
    const found = new Map<bigint, User>();
    const missing: bigint[] = [];
    for (const id of new Set(userIds)) {
      const entry = this.entries.get(id);
      if (entry && entry.expiresAt > now) found.set(id, entry.user);
      else missing.push(id);
    }
    await Promise.all(
      missing.map(async (userId) => {
        const user = (await this.fetchUser(userId)) ?? deletedUser(userId);
        found.set(userId, user);
        this.entries.delete(userId);
        if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
        this.entries.set(userId, { user, expiresAt: now + this.ttlMs });
      }),
    );
    return (userId) => found.get(userId) ?? deletedUser(userId);
  }

  /** Drops a user whose profile just changed, so the next lookup reads it again. */
  forget(userId: bigint): void {
    this.entries.delete(userId);
  }
}
