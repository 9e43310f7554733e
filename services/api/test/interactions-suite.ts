// Interactions end to end through a running Chorus, whatever its run mode: applications'
// signing keys and interactions endpoints (verified with signed PINGs), and interactions
// delivered over the gateway or signed HTTP with their responses. interactions-embedded.test.ts
// and interactions-cluster.test.ts run it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { verifyKey } from "discord-interactions";
import { PrivateApplicationResponseSchema } from "discord-api-spec/zod";
import { assertFormErrors, assertMatches, formErrorCodes, httpCall, type CallOptions } from "./discord-http.js";
import { startInteractionEndpoint, type InteractionEndpoint } from "./interaction-endpoint.js";

export interface ChorusUnderTest {
  /** Base URL of the api's HTTP edge. */
  httpUrl: string;
  /** WebSocket URL of a gateway. */
  gatewayUrl: string;
}

export function describeInteractions(mode: string, start: () => Promise<ChorusUnderTest>, stop: () => Promise<void>): void {
  describe(`interactions (${mode} mode)`, () => {
    let chorus: ChorusUnderTest;
    let endpoint: InteractionEndpoint;
    const run = randomBytes(3).toString("hex");
    let serial = 0;
    const freshName = () => `i${run}_${++serial}`;

    before(async () => {
      chorus = await start();
      endpoint = await startInteractionEndpoint();
    });
    after(async () => {
      await endpoint?.close();
      await stop();
    });

    const call = (method: string, path: string, options: CallOptions = {}) => httpCall(chorus.httpUrl, method, `/api/v10${path}`, options);

    async function register() {
      const username = freshName();
      const res = await call("POST", "/auth/register", { body: { username, email: `${username}@example.com`, password: `pw-${username}-secret` } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { username, token: res.body.token as string, id: res.body.user_id as string };
    }

    async function createApplication(token: string) {
      const res = await call("POST", "/applications", { token, body: { name: `App ${freshName()}` } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; verify_key: string };
    }

    describe("interactions endpoint", () => {
      it("is saved once a signed PING is answered with PONG (and a forged one refused); the private key is never shown", async () => {
        const owner = await register();
        const app = await createApplication(owner.token);
        assert.match(app.verify_key, /^[0-9a-f]{64}$/);
        assert.ok(!Object.keys(app).some((k) => k.includes("private")), JSON.stringify(app));
        endpoint.publicKey = app.verify_key;
        endpoint.checkSignatures = true;
        endpoint.received.length = 0;
        const res = await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { interactions_endpoint_url: endpoint.url } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.interactions_endpoint_url, endpoint.url);
        assertMatches(PrivateApplicationResponseSchema, res.body, "the application");
        // Chorus checked that the endpoint refuses a forged PING, then sent a signed one.
        assert.deepEqual(endpoint.received.map((r) => [r.body.type, r.verified]), [[1, false], [1, true]]);
        const signed = endpoint.received[1];
        assert.equal(signed.body.application_id, app.id);
        assert.equal(await verifyKey(signed.raw, signed.signature, signed.timestamp, app.verify_key), true);
        assert.equal(await verifyKey(signed.raw.replace('"type":1', '"type":2'), signed.signature, signed.timestamp, app.verify_key), false);
        assert.equal((await call("GET", `/applications/${app.id}`, { token: owner.token })).body.interactions_endpoint_url, endpoint.url);
        // null removes it (interactions go to the gateway again).
        const cleared = await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { interactions_endpoint_url: null } });
        assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
        assert.equal(cleared.body.interactions_endpoint_url, null);
      });

      it("is refused, naming interactions_endpoint_url, when it does not check signatures, answers no PONG or cannot be reached", async () => {
        const owner = await register();
        const app = await createApplication(owner.token);
        endpoint.publicKey = app.verify_key;
        const refused = async (url: string) => {
          const res = await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { interactions_endpoint_url: url } });
          assertFormErrors(res, { interactions_endpoint_url: "APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID" });
          return String(res.body.errors.interactions_endpoint_url._errors[0].message);
        };
        endpoint.checkSignatures = false;
        assert.match(await refused(endpoint.url), /wrong signature/);
        endpoint.checkSignatures = true;
        endpoint.pingAnswer = () => ({ status: 200, body: { type: 4 } });
        assert.match(await refused(endpoint.url), /PONG/);
        endpoint.pingAnswer = () => ({ status: 500, body: {} });
        assert.match(await refused(endpoint.url), /answered 500/);
        endpoint.pingAnswer = () => ({ status: 200, body: { type: 1 } });
        assert.match(await refused("http://127.0.0.1:1/interactions"), /no answer/);
        const bad = await call("PATCH", `/applications/${app.id}`, { token: owner.token, body: { interactions_endpoint_url: "ftp://example.com/x" } });
        assert.deepEqual(formErrorCodes(bad.body.errors), { interactions_endpoint_url: "URL_TYPE_INVALID_PROTOCOL" });
        assert.equal((await call("GET", `/applications/${app.id}`, { token: owner.token })).body.interactions_endpoint_url, null);
      });
    });
  });
}
