// Guilds in embedded mode: `npm start`'s process (every service in one process, SQLite in a
// temp data folder, no infrastructure), driven through its public ports.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { AccountStorageService } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { startEmbeddedChorus, type EmbeddedChorusProcess } from "@chorus/testing";
import { describeGuilds } from "./guilds-suite.js";

let chorus: EmbeddedChorusProcess | undefined;

describeGuilds(
  "embedded",
  async () => {
    chorus = await startEmbeddedChorus();
    const meshUrl = `http://127.0.0.1:${chorus.ports.grpc}`;
    // Every contract is served on the one mesh port; the one guild node owns every guild.
    const transport = createConnectTransport({ baseUrl: meshUrl, httpVersion: "1.1" });
    const guildNode = createClient(GuildService, transport);
    return {
      httpUrl: `http://127.0.0.1:${chorus.ports.http}`,
      meshUrl,
      storage: createClient(AccountStorageService, transport),
      guildNode: () => guildNode,
    };
  },
  async () => chorus?.stop(),
);
