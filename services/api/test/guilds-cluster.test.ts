// Guilds in cluster mode: an api process, two guild processes and a storage process on real
// etcd and Cassandra. Guilds and private channels are spread over both guild nodes by their
// ids, so the suite also shows that the api reaches each one's owner, by guild id, channel id
// or invite code.
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { startApiCluster, type ApiCluster } from "./api-cluster.js";
import { describeGuilds } from "./guilds-suite.js";

let cluster: ApiCluster | undefined;

describeGuilds(
  "cluster",
  async () => {
    cluster = await startApiCluster({ storage: 1, guild: 2 });
    const clients = cluster.mesh.clients;
    return {
      httpUrl: cluster.api.urls.http,
      meshUrl: `http://${cluster.api.address}`,
      storage: clients.client(AccountStorageService, 0n),
      guildNode: (ownerId) => clients.client(GuildService, ownerId),
    };
  },
  async () => cluster?.stop(),
);
