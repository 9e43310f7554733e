// Interactions in cluster mode: api, storage, two guild nodes, a relay and a gateway as their
// own processes on real etcd, Redis and Cassandra. An interaction's state lives in the guild
// node owning its channel, so the callback may reach any api node.
import { startApiCluster, type ApiCluster } from "./api-cluster.js";
import { INTERACTION_ENV, describeInteractions } from "./interactions-suite.js";

let cluster: ApiCluster | undefined;

describeInteractions(
  "cluster",
  async () => {
    cluster = await startApiCluster({ storage: 1, guild: 2, relay: 1, gateway: 1, guildEnv: INTERACTION_ENV });
    return { httpUrl: cluster.api.urls.http, gatewayUrl: cluster.gatewayUrls[0] };
  },
  async () => cluster?.stop(),
);
