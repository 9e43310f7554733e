// Webhooks in embedded mode: `npm start`'s process (every service in one process, SQLite in a
// temp data folder, no infrastructure), driven through its public ports.
import { startEmbeddedChorus, type EmbeddedChorusProcess } from "@chorus/testing";
import { describeWebhooks } from "./webhooks-suite.js";

let chorus: EmbeddedChorusProcess | undefined;

describeWebhooks(
  "embedded",
  async () => {
    chorus = await startEmbeddedChorus();
    return { httpUrl: `http://127.0.0.1:${chorus.ports.http}`, gatewayUrl: `ws://127.0.0.1:${chorus.ports.gateway}` };
  },
  async () => chorus?.stop(),
);
