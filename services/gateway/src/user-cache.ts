import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MeshClients } from "@chorus/mesh";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import type { UserLookup } from "@chorus/discord-json/guilds";

/** What Discord shows for an account that no longer exists. */
const deletedUser = (userId: bigint) => create(UserSchema, { id: userId, username: `deleted_user_${userId.toString(16)}`, globalName: "Deleted User" });

/**
 * The users GUILD_CREATEs name, kept briefly: every session identifying in the same guild
 * renders the same members, and a profile change shows up once the entry expires.
 */
export class UserCache {
  private readonly entries = new Map<bigint, { user: User; expiresAt: number }>();

  constructor(
    private readonly clients: MeshClients,
    private readonly ttlMs = 30_000,
    private readonly maxEntries = 50_000,
  ) {}

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
        let user: User;
        try {
          user = (await this.clients.client(AccountStorageService, userId).getUser({ userId })).user!;
        } catch (err) {
          if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
          user = deletedUser(userId);
        }
        found.set(userId, user);
        if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
        this.entries.set(userId, { user, expiresAt: now + this.ttlMs });
      }),
    );
    return (userId) => found.get(userId) ?? deletedUser(userId);
  }
}
