// The command storage contract on SQLite, in a temp database file as in embedded mode.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteCommandStore } from "../src/sqlite-command-store.js";
import { describeCommandConformance } from "./command-conformance.js";

const dir = mkdtempSync(join(tmpdir(), "chorus-sqlite-commands-"));

describeCommandConformance(
  "sqlite",
  async () => {
    const store = new SqliteCommandStore({ path: join(dir, "messages.db") });
    await store.open();
    return store;
  },
  () => rmSync(dir, { recursive: true, force: true }),
);
