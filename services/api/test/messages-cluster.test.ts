// Messages in cluster mode: an api process, two guild processes and a storage process on real
// etcd and Cassandra. Guilds and DMs are spread over both guild nodes, so each message command
// reaches its channel's owner through the directory, and reads go to storage by channel id.
import { startApiCluster, type ApiCluster } from "./api-cluster.js";
import { describeMessages } from "./messages-suite.js";

let cluster: ApiCluster | undefined;

describeMessages(
  "cluster",
  async () => {
    cluster = await startApiCluster({ storage: 1, guild: 2 });
    return { httpUrl: cluster.api.urls.http, meshUrl: `http://${cluster.api.address}` };
  },
  async () => cluster?.stop(),
);
