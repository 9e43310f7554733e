// A local interactions endpoint for the tests, as an application would run one: a plain
// node:http server that checks each request with `discord-interactions`' verifyKey (401 when
// the signature does not hold) and answers PING with PONG and anything else as `answer` says.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyKey } from "discord-interactions";

export interface ReceivedInteraction {
  body: any;
  raw: string;
  signature: string;
  timestamp: string;
  /** What verifyKey said of the request as received. */
  verified: boolean;
}

export interface InteractionEndpoint {
  url: string;
  /** The application's verify_key, once known (until then every request is refused). */
  publicKey?: string;
  /** Whether to check signatures at all (an endpoint that does not is refused by Chorus). */
  checkSignatures: boolean;
  /** How to answer a verified PING (default: PONG). */
  pingAnswer: () => { status: number; body: unknown };
  /** How to answer a verified interaction other than PING. */
  answer: (interaction: any) => Promise<unknown> | unknown;
  received: ReceivedInteraction[];
  close(): Promise<void>;
}

export async function startInteractionEndpoint(): Promise<InteractionEndpoint> {
  const endpoint: InteractionEndpoint = {
    url: "",
    checkSignatures: true,
    pingAnswer: () => ({ status: 200, body: { type: 1 } }),
    answer: () => ({ type: 4, data: { content: "hello" } }),
    received: [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", async () => {
      const raw = Buffer.concat(chunks).toString();
      const signature = String(request.headers["x-signature-ed25519"] ?? "");
      const timestamp = String(request.headers["x-signature-timestamp"] ?? "");
      const verified = endpoint.publicKey ? await verifyKey(raw, signature, timestamp, endpoint.publicKey) : false;
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      endpoint.received.push({ body, raw, signature, timestamp, verified });
      const send = (status: number, answer: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(answer));
      };
      if (endpoint.checkSignatures && !verified) return send(401, { error: "invalid request signature" });
      if (body?.type === 1) {
        const ping = endpoint.pingAnswer();
        return send(ping.status, ping.body);
      }
      try {
        send(200, await endpoint.answer(body));
      } catch (err) {
        send(500, { error: String(err) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/interactions`;
  return endpoint;
}
