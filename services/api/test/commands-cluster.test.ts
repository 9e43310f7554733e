// Application commands in cluster mode: an api, a storage and a guild process on real etcd and
// Cassandra (guild commands check the bot's membership on the guild node that owns the guild).
import { startApiCluster, type ApiCluster } from "./api-cluster.js";
import { describeCommands } from "./commands-suite.js";

let cluster: ApiCluster | undefined;

describeCommands(
  "cluster",
  async () => {
    cluster = await startApiCluster({ storage: 1, guild: 1 });
    return { httpUrl: cluster.api.urls.http, meshUrl: `http://${cluster.api.address}` };
  },
  async () => cluster?.stop(),
);
