// The provider side of the push benchmark, in a process of its own so that its CPU is not the
// push pipeline's: a local FCM HTTP v1 endpoint (h2c) or Web Push service (HTTP/1.1) answering
// after a fixed delay. Prints one JSON line with what the pipeline needs; answers "stats" on
// stdin with its counters; exits on "exit" or when stdin closes.
import { createInterface } from "node:readline";
import { startFcmEndpoint, startWebPushEndpoint, type EndpointState } from "@chorus/testing";

const [kind, delayArg, subscriptionsArg] = process.argv.slice(2);
const delayMs = Number(delayArg ?? "20");

let state: EndpointState<unknown>;
let close: () => Promise<void>;
if (kind === "fcm") {
  const fcm = await startFcmEndpoint({ countOnly: true, delayMs });
  state = fcm.state as EndpointState<unknown>;
  close = () => fcm.close();
  console.log(JSON.stringify({ url: fcm.url, serviceAccount: fcm.serviceAccount }));
} else if (kind === "webpush") {
  const push = await startWebPushEndpoint({ countOnly: true, delayMs, verify: false });
  state = push.state as EndpointState<unknown>;
  close = () => push.close();
  const subscriptions = Array.from({ length: Number(subscriptionsArg ?? "100") }, () => push.subscribe());
  console.log(JSON.stringify({ url: push.url, subscriptions }));
} else {
  console.error("usage: push-endpoint-process.js fcm|webpush DELAY_MS [SUBSCRIPTIONS]");
  process.exit(2);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "stats") {
    console.log(JSON.stringify({ answered: state.answered, open: state.open, peakOpen: state.peakOpen, byStatus: Object.fromEntries(state.byStatus) }));
  } else if (line === "exit") {
    void close().then(() => process.exit(0));
  }
});
lines.on("close", () => void close().then(() => process.exit(0)));
