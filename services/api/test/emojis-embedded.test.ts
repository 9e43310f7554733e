// Custom emojis in embedded mode: `npm start`'s process (every service in one process, SQLite
// and the blob directory in a temp data folder), driven through its public ports.
import { join } from "node:path";
import { startEmbeddedChorus, type EmbeddedChorusProcess } from "@chorus/testing";
import { describeEmojis } from "./emojis-suite.js";

let chorus: EmbeddedChorusProcess | undefined;

describeEmojis(
  "embedded",
  async () => {
    chorus = await startEmbeddedChorus();
    return {
      httpUrl: `http://127.0.0.1:${chorus.ports.http}`,
      meshUrl: `http://127.0.0.1:${chorus.ports.grpc}`,
      gatewayUrl: `ws://127.0.0.1:${chorus.ports.gateway}`,
      // The default place: <CHORUS_DATA_DIR>/blobs.
      blobDir: join(chorus.dataDir, "blobs"),
    };
  },
  async () => chorus?.stop(),
);
