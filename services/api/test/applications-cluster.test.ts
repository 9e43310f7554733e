// Applications, bots and relationships in cluster mode: an api, a storage and a guild process
// on real etcd and Cassandra. Authorizing a bot crosses all three: the api checks the
// application, the guild node that owns the guild adds the bot, storage keeps the guild's
// event and the bot's guild index.
import { startApiCluster, type ApiCluster } from "./api-cluster.js";
import { describeApplications } from "./applications-suite.js";

let cluster: ApiCluster | undefined;

describeApplications(
  "cluster",
  async () => {
    cluster = await startApiCluster({ storage: 1, guild: 1 });
    return { httpUrl: cluster.api.urls.http, meshUrl: `http://${cluster.api.address}` };
  },
  async () => cluster?.stop(),
);
