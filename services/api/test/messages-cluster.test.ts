// Messages in cluster mode: an api process, two guild processes, a storage process, a relay and
// a gateway on real etcd, Cassandra and Redis. Guilds and DMs are spread over both guild nodes, so each message command
// reaches its channel's owner through the directory, and reads go to storage by channel id.
// Attachments' files go to a blob directory of the test's own (CHORUS_BLOB_DIR).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApiCluster, type ApiCluster } from "./api-cluster.js";
import { MAX_ATTACHMENT_BYTES, describeMessages } from "./messages-suite.js";

let cluster: ApiCluster | undefined;
const blobDir = mkdtempSync(join(tmpdir(), "chorus-blobs-"));

describeMessages(
  "cluster",
  async () => {
    cluster = await startApiCluster({ storage: 1, guild: 2, relay: 1, gateway: 1, apiEnv: { CHORUS_BLOB_DIR: blobDir, CHORUS_MAX_ATTACHMENT_BYTES: String(MAX_ATTACHMENT_BYTES) } });
    return { httpUrl: cluster.api.urls.http, meshUrl: `http://${cluster.api.address}`, blobDir, gatewayUrl: cluster.gatewayUrls[0] };
  },
  async () => {
    await cluster?.stop();
    rmSync(blobDir, { recursive: true, force: true });
  },
);
