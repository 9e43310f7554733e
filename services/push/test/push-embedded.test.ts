// Push notifications in embedded mode: `npm start`'s process (every service in one process,
// SQLite in a temp data folder, the gateways' sessions in process, no infrastructure) sending
// Web Push to a local RFC 8030 service that checks VAPID and decrypts every payload. The same
// tests as in cluster mode for members' own levels and live gateway sessions.
import { after, before, describe } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import webpush from "web-push";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { DiscordRest, startEmbeddedChorus, startWebPushEndpoint, type EmbeddedChorusProcess, type WebPushEndpoint } from "@chorus/testing";
import { pushSettingsTests, type PushTarget } from "./push-suite.js";

describe("push notifications in embedded mode (Web Push to a local RFC 8030 service)", () => {
  const vapid = { subject: "mailto:push@chorus.test", ...webpush.generateVAPIDKeys() };
  let chorus: EmbeddedChorusProcess | undefined;
  let pushService: WebPushEndpoint | undefined;
  let target: PushTarget;

  before(async () => {
    pushService = await startWebPushEndpoint({ vapidPublicKey: vapid.publicKey });
    chorus = await startEmbeddedChorus({
      CHORUS_VAPID_SUBJECT: vapid.subject,
      CHORUS_VAPID_PUBLIC_KEY: vapid.publicKey,
      CHORUS_VAPID_PRIVATE_KEY: vapid.privateKey,
      // The local push service speaks plain http on loopback.
      CHORUS_WEB_PUSH_ALLOW_HTTP: "1",
    });
    // Every contract is served on the one mesh port; the one guild node owns every guild.
    const guildNode = createClient(GuildService, createConnectTransport({ baseUrl: `http://127.0.0.1:${chorus.ports.grpc}`, httpVersion: "1.1" }));
    target = {
      rest: new DiscordRest(`http://127.0.0.1:${chorus.ports.http}`),
      httpUrl: `http://127.0.0.1:${chorus.ports.http}`,
      pushService,
      gatewayUrl: `ws://127.0.0.1:${chorus.ports.gateway}`,
      online: async (guildId, userId) => {
        const { sessions } = await guildNode.listOnline({ guildId: BigInt(guildId) });
        return sessions.some((s) => String(s.userId) === userId);
      },
    };
  });

  after(async () => {
    chorus?.stop();
    await pushService?.close();
  });

  pushSettingsTests(() => target);
});
