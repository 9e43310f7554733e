// A sink thread: opens the provider connections the main thread's sinks give it and sends
// what they hand over. The sinks (in-flight limits, retries, priorities) stay in the main
// thread; this thread only does the provider's I/O and its CPU (HTTP/2, TLS, encryption).
import { parentPort } from "node:worker_threads";
import { ProviderFactory, type ProviderSpec } from "./provider-spec.js";
import type { PushProvider, PushRequest, SendOutcome } from "./push-request.js";

/** From the main thread. */
export type ToSinkThread =
  | { op: "open"; provider: number; spec: ProviderSpec }
  /** Flattened [provider, seq, request] triples. */
  | { op: "send"; batch: (number | PushRequest)[] }
  | { op: "close"; provider: number; seq: number };

/** To the main thread: flattened [seq, outcome] pairs (undefined outcome: a close finished). */
export type FromSinkThread = { op: "done"; batch: (number | SendOutcome | undefined)[] };

const port = parentPort;
if (!port) throw new Error("sink-thread-main runs in a worker thread");
const factory = new ProviderFactory();
const providers = new Map<number, PushProvider>();
let answers: (number | SendOutcome | undefined)[] = [];
let flushing = false;

// Answers of one turn of the event loop go back in one message.
function answer(seq: number, outcome: SendOutcome | undefined): void {
  answers.push(seq, outcome);
  if (flushing) return;
  flushing = true;
  setImmediate(() => {
    flushing = false;
    const batch = answers;
    answers = [];
    port!.postMessage({ op: "done", batch } satisfies FromSinkThread);
  });
}

function send(providerId: number, seq: number, request: PushRequest): void {
  const provider = providers.get(providerId);
  if (!provider) return answer(seq, { status: "retry", reason: "sink thread: unknown provider" });
  provider.send(request).then(
    (outcome) => answer(seq, outcome),
    (err: unknown) => answer(seq, { status: "retry", reason: err instanceof Error ? err.message : String(err) }),
  );
}

port.on("message", (message: ToSinkThread) => {
  switch (message.op) {
    case "open":
      providers.set(message.provider, factory.open(message.spec));
      break;
    case "send": {
      const b = message.batch;
      for (let i = 0; i < b.length; i += 3) send(b[i] as number, b[i + 1] as number, b[i + 2] as PushRequest);
      break;
    }
    case "close": {
      const provider = providers.get(message.provider);
      providers.delete(message.provider);
      void (provider?.close() ?? Promise.resolve()).finally(() => answer(message.seq, undefined));
      break;
    }
  }
});
