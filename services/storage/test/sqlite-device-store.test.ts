// The device storage contract on SQLite, in a temp database file as in embedded mode.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteDeviceStore } from "../src/sqlite-device-store.js";
import { describeDeviceConformance } from "./device-conformance.js";

const dir = mkdtempSync(join(tmpdir(), "chorus-sqlite-devices-"));

describeDeviceConformance(
  "sqlite",
  async () => {
    const store = new SqliteDeviceStore({ path: join(dir, "messages.db") });
    await store.open();
    return store;
  },
  () => rmSync(dir, { recursive: true, force: true }),
);
