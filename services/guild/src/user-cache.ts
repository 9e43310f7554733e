import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import type { UserLookup } from "@chorus/discord-json/guilds";
import type { MeshClients } from "@chorus/mesh";

const TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

/** What Discord shows for an account that no longer exists. */
function deletedUser(userId: bigint): User {
  return create(UserSchema, { id: userId, username: `deleted_user_${userId.toString(16)}`, globalName: "Deleted User" });
}

/**
 * Users as dispatches show them (authors, members, banned users), fetched from account storage
 * once and kept for a minute: a busy channel's authors cost one lookup a minute, not one per
 * message. Profiles changed meanwhile show up within that minute.
 */
export class UserCache {
  private readonly users = new Map<bigint, { user: User; at: number }>();

  constructor(private readonly clients: MeshClients) {}

  /** Fetches what is missing or stale, then answers synchronously for these ids. */
  async lookup(userIds: Iterable<bigint>): Promise<UserLookup> {
    const now = Date.now();
    const missing = [...new Set(userIds)].filter((id) => {
      const hit = this.users.get(id);
      return !hit || now - hit.at > TTL_MS;
    });
    await Promise.all(
      missing.map(async (userId) => {
        let user: User;
        try {
          user = (await this.clients.client(AccountStorageService, userId).getUser({ userId })).user ?? deletedUser(userId);
        } catch (err) {
          if (ConnectError.from(err).code !== Code.NotFound) throw err;
          user = deletedUser(userId);
        }
        if (this.users.size >= MAX_ENTRIES) this.users.delete(this.users.keys().next().value!);
        this.users.set(userId, { user, at: now });
      }),
    );
    return (userId) => this.users.get(userId)?.user ?? deletedUser(userId);
  }
}
