// Interactions in embedded mode: `npm start`'s process (every service in one process, SQLite
// in a temp data folder), driven through its public ports.
import { startEmbeddedChorus, type EmbeddedChorusProcess } from "@chorus/testing";
import { INTERACTION_ENV, describeInteractions } from "./interactions-suite.js";

let chorus: EmbeddedChorusProcess | undefined;

describeInteractions(
  "embedded",
  async () => {
    chorus = await startEmbeddedChorus(INTERACTION_ENV);
    return { httpUrl: `http://127.0.0.1:${chorus.ports.http}`, gatewayUrl: `ws://127.0.0.1:${chorus.ports.gateway}` };
  },
  async () => chorus?.stop(),
);
