// Application commands in embedded mode: `npm start`'s process (every service in one process,
// SQLite in a temp data folder), driven through its public ports.
import { startEmbeddedChorus, type EmbeddedChorusProcess } from "@chorus/testing";
import { describeCommands } from "./commands-suite.js";

let chorus: EmbeddedChorusProcess | undefined;

describeCommands(
  "embedded",
  async () => {
    chorus = await startEmbeddedChorus();
    return { httpUrl: `http://127.0.0.1:${chorus.ports.http}`, meshUrl: `http://127.0.0.1:${chorus.ports.grpc}` };
  },
  async () => chorus?.stop(),
);
