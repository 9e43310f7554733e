import client from "prom-client";
import { metricsRegistry } from "@chorus/mesh";
import type { QueryHook } from "./message-store.js";

const dbQueries = new client.Counter({
  name: "storage_db_queries_total",
  help: "Database round trips made by the storage service, by backend and operation",
  labelNames: ["backend", "operation"] as const,
  registers: [metricsRegistry],
});

const coalescedRequests = new client.Counter({
  name: "storage_coalesced_requests_total",
  help: "Reads answered by joining an identical read already in flight",
  registers: [metricsRegistry],
});

/**
 * Counts one storage instance's database round trips and coalesced reads, both for its
 * GetStatus answer and for the process-wide Prometheus counters.
 */
export class StorageCounters {
  queries = 0n;
  coalesced = 0n;

  constructor(readonly backend: string) {}

  /** Handed to the store: called once per database round trip. */
  readonly onQuery: QueryHook = (operation) => {
    this.queries++;
    dbQueries.inc({ backend: this.backend, operation });
  };

  readonly onCoalesced = () => {
    this.coalesced++;
    coalescedRequests.inc();
  };
}
