// Custom emojis in cluster mode: api, two guild nodes, storage, a relay and a gateway as their
// own processes on real etcd, Cassandra and Redis; the images in a blob directory of the
// test's own (CHORUS_BLOB_DIR).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApiCluster, type ApiCluster } from "./api-cluster.js";
import { describeEmojis } from "./emojis-suite.js";

let cluster: ApiCluster | undefined;
const blobDir = mkdtempSync(join(tmpdir(), "chorus-emoji-blobs-"));

describeEmojis(
  "cluster",
  async () => {
    cluster = await startApiCluster({ storage: 1, guild: 2, relay: 1, gateway: 1, apiEnv: { CHORUS_BLOB_DIR: blobDir } });
    return { httpUrl: cluster.api.urls.http, meshUrl: `http://${cluster.api.address}`, gatewayUrl: cluster.gatewayUrls[0], blobDir };
  },
  async () => {
    await cluster?.stop();
    rmSync(blobDir, { recursive: true, force: true });
  },
);
