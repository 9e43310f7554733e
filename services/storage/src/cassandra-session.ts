import cassandra from "cassandra-driver";
import { applyMigrations } from "./cassandra-schema.js";
import type { QueryHook } from "./message-store.js";
import { StoreUnavailableError } from "./storage-errors.js";

const { Client, errors, policies, types } = cassandra;

export interface CassandraStoreOptions {
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  /** "SimpleStrategy:1" or "NetworkTopologyStrategy:dc1=3,..." (used when creating the keyspace). */
  replication: string;
  /** Consistency of reads and writes, e.g. LOCAL_QUORUM. */
  consistency: keyof typeof types.consistencies;
  /** Driver-side timeout of one request: a dead node never holds a call past it. */
  requestTimeoutMs: number;
  onQuery?: QueryHook;
}

/** Server errors that mean "not now", not "never": the caller may retry later. */
const TRANSIENT_CODES = new Set<number>([
  types.responseErrorCodes.unavailableException,
  types.responseErrorCodes.overloaded,
  types.responseErrorCodes.isBootstrapping,
  types.responseErrorCodes.writeTimeout,
  types.responseErrorCodes.readTimeout,
]);

function isTransient(err: unknown): boolean {
  return (
    err instanceof errors.NoHostAvailableError ||
    err instanceof errors.OperationTimedOutError ||
    err instanceof errors.BusyConnectionError ||
    (err instanceof errors.ResponseError && TRANSIENT_CODES.has(err.code))
  );
}

/**
 * One cassandra-driver client as the stores use it: prepared statements, token-aware routing
 * (the driver's default policy, which sends each query to a replica of its partition),
 * consistency from config (LWTs use LOCAL_SERIAL), a per-request timeout, reconnection every
 * 500 ms, the schema migrations on open, and every round trip reported to `onQuery` with
 * connectivity failures turned into StoreUnavailableError.
 */
export class CassandraSession {
  readonly keyspace: string;
  private readonly client: cassandra.Client;

  constructor(private readonly options: CassandraStoreOptions) {
    if (!/^[a-z][a-z0-9_]{0,47}$/.test(options.keyspace)) throw new Error(`invalid keyspace name "${options.keyspace}"`);
    this.keyspace = options.keyspace;
    this.client = new Client({
      contactPoints: options.contactPoints,
      localDataCenter: options.localDataCenter,
      encoding: { useBigIntAsLong: true },
      queryOptions: {
        consistency: types.consistencies[options.consistency],
        serialConsistency: types.consistencies.localSerial,
        prepare: true,
      },
      socketOptions: { connectTimeout: Math.min(5000, options.requestTimeoutMs), readTimeout: options.requestTimeoutMs },
      policies: { reconnection: new policies.reconnection.ConstantReconnectionPolicy(500) },
    });
  }

  /** Connects and applies the missing migrations (idempotent). */
  async open(): Promise<void> {
    await this.run("connect", () => this.client.connect());
    await this.run("migrate", () => applyMigrations(this.client, this.keyspace, this.options.replication));
  }

  /** Runs one database round trip, counted as `operation`. */
  async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    this.options.onQuery?.(operation);
    try {
      return await work();
    } catch (err) {
      if (isTransient(err)) throw new StoreUnavailableError(`cassandra ${operation} failed: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }

  execute(operation: string, cql: string, params: unknown[], options?: cassandra.QueryOptions): Promise<cassandra.types.ResultSet> {
    return this.run(operation, () => this.client.execute(cql, params, { ...options, prepare: true }));
  }

  /** Every row a query selects, `fetchSize` rows per round trip (each counted as `operation`). */
  async all(operation: string, cql: string, params: unknown[], fetchSize = 1000): Promise<cassandra.types.Row[]> {
    const rows: cassandra.types.Row[] = [];
    let pageState: string | undefined;
    do {
      const result = await this.execute(operation, cql, params, { fetchSize, pageState });
      rows.push(...result.rows);
      pageState = result.pageState ?? undefined;
    } while (pageState);
    return rows;
  }

  /** One batch (a conditional batch must stay within one partition). */
  batch(operation: string, queries: { query: string; params: unknown[] }[], options?: cassandra.QueryOptions): Promise<cassandra.types.ResultSet> {
    return this.run(operation, () => this.client.batch(queries, { ...options, prepare: true }));
  }

  async close(): Promise<void> {
    await this.client.shutdown();
  }
}

/**
 * What every Cassandra store of one kind of data starts from: its own session on the
 * keyspace, opened and closed with the store, and the keyspace name for its statements.
 */
export abstract class CassandraBackedStore {
  readonly backend = "cassandra" as const;
  protected readonly session: CassandraSession;
  protected readonly ks: string;

  constructor(options: CassandraStoreOptions) {
    this.session = new CassandraSession(options);
    this.ks = this.session.keyspace;
  }

  open(): Promise<void> {
    return this.session.open();
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
