// The embedded mode's session store against the conformance suite (no infrastructure).
import { MemorySessionStore } from "../src/memory-session-store.js";
import { describeSessionStore } from "./session-store-conformance.js";

describeSessionStore("memory", (space, instanceId, options) => new MemorySessionStore({ prefix: `${space}:`, instanceId, bufferSize: options?.bufferSize ?? 1000, ttlSeconds: 120 }));
