// Webhooks in cluster mode: api, two guild nodes, storage, a relay and a gateway as their own
// processes on real etcd, Redis and Cassandra. Webhook commands reach the guild's owner, their
// rows live in Cassandra, and WEBHOOKS_UPDATE / MESSAGE_CREATE go through the relay to the
// gateway's sessions. Attachments' files go to a blob directory of the test's own.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApiCluster, type ApiCluster } from "./api-cluster.js";
import { describeWebhooks } from "./webhooks-suite.js";

let cluster: ApiCluster | undefined;
const blobDir = mkdtempSync(join(tmpdir(), "chorus-webhook-blobs-"));

describeWebhooks(
  "cluster",
  async () => {
    cluster = await startApiCluster({ storage: 1, guild: 2, relay: 1, gateway: 1, apiEnv: { CHORUS_BLOB_DIR: blobDir } });
    return { httpUrl: cluster.api.urls.http, gatewayUrl: cluster.gatewayUrls[0] };
  },
  async () => {
    await cluster?.stop();
    rmSync(blobDir, { recursive: true, force: true });
  },
);
