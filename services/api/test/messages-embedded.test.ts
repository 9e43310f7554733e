// Messages in embedded mode: `npm start`'s process (every service in one process, SQLite in a
// temp data folder, no infrastructure), driven through its public ports.
import { join } from "node:path";
import { startEmbeddedChorus, type EmbeddedChorusProcess } from "@chorus/testing";
import { MAX_ATTACHMENT_BYTES, describeMessages } from "./messages-suite.js";

let chorus: EmbeddedChorusProcess | undefined;

describeMessages(
  "embedded",
  async () => {
    chorus = await startEmbeddedChorus({ CHORUS_MAX_ATTACHMENT_BYTES: String(MAX_ATTACHMENT_BYTES) });
    // Attachments' files in the default place: <CHORUS_DATA_DIR>/blobs.
    return {
      httpUrl: `http://127.0.0.1:${chorus.ports.http}`,
      meshUrl: `http://127.0.0.1:${chorus.ports.grpc}`,
      blobDir: join(chorus.dataDir, "blobs"),
      gatewayUrl: `ws://127.0.0.1:${chorus.ports.gateway}`,
    };
  },
  async () => chorus?.stop(),
);
