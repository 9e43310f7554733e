// The webhook storage contract on SQLite, in a temp database file as in embedded mode.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteWebhookStore } from "../src/sqlite-webhook-store.js";
import { describeWebhookConformance } from "./webhook-conformance.js";

const dir = mkdtempSync(join(tmpdir(), "chorus-sqlite-webhooks-"));

describeWebhookConformance(
  "sqlite",
  async () => {
    const store = new SqliteWebhookStore({ path: join(dir, "messages.db") });
    await store.open();
    return store;
  },
  () => rmSync(dir, { recursive: true, force: true }),
);
