// The cluster mode's session store (Lua scripts on a real Redis) against the conformance suite.
import { after, before } from "node:test";
import type { Redis } from "ioredis";
import { requireRedis } from "@chorus/testing";
import { RedisSessionStore } from "../src/redis-session-store.js";
import { openRedis } from "@chorus/session-directory";
import { describeSessionStore } from "./session-store-conformance.js";

const clients: Redis[] = [];
let url = "";
before(async () => {
  url = await requireRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
});

describeSessionStore("redis", (space, instanceId, options) => {
  const redis = openRedis(url);
  clients.push(redis);
  // The namespace makes the prefix, as the service does (chorus:<namespace>:gw:).
  return new RedisSessionStore(redis, {
    prefix: `chorus:${space}:gw:`,
    namespace: space,
    instanceId,
    bufferSize: options?.bufferSize ?? 1000,
    ttlSeconds: 120,
  });
});
