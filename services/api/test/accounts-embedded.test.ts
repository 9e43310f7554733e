// Accounts in embedded mode: `npm start`'s process (every service in one process, SQLite in a
// temp data folder, no infrastructure), driven through its public ports.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { startEmbeddedChorus, type EmbeddedChorusProcess } from "@chorus/testing";
import { describeAccounts } from "./accounts-suite.js";

let chorus: EmbeddedChorusProcess | undefined;

describeAccounts(
  "embedded",
  async () => {
    chorus = await startEmbeddedChorus();
    const meshUrl = `http://127.0.0.1:${chorus.ports.grpc}`;
    return {
      httpUrl: `http://127.0.0.1:${chorus.ports.http}`,
      meshUrl,
      // Every contract, storage's included, is served on the one mesh port.
      storage: createClient(AccountStorageService, createConnectTransport({ baseUrl: meshUrl, httpVersion: "1.1" })),
    };
  },
  async () => chorus?.stop(),
);
