// Accounts in cluster mode: an api process and two storage processes on real etcd (a
// registry namespace of their own) and Cassandra (keyspace chorus_test). Registrations,
// logins and token checks are routed to storage nodes by different keys, so the suite also
// shows that every storage node answers every account correctly.
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { startApiCluster, type ApiCluster } from "./api-cluster.js";
import { describeAccounts } from "./accounts-suite.js";

let cluster: ApiCluster | undefined;

describeAccounts(
  "cluster",
  async () => {
    cluster = await startApiCluster({ storage: 2, guild: 0 });
    return {
      httpUrl: cluster.api.urls.http,
      meshUrl: `http://${cluster.api.address}`,
      storage: cluster.mesh.clients.client(AccountStorageService, 0n),
    };
  },
  async () => cluster?.stop(),
);
