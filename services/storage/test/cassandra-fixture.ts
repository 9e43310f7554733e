import cassandra from "cassandra-driver";
import { cassandraContactPoints, requireCassandra } from "@chorus/testing";
import { CassandraMessageStore } from "../src/cassandra-store.js";
import { CassandraAccountStore } from "../src/cassandra-account-store.js";
import { CassandraGuildStore } from "../src/cassandra-guild-store.js";
import { CassandraDeviceStore } from "../src/cassandra-device-store.js";
import { CassandraCommandStore } from "../src/cassandra-command-store.js";
import { CassandraWebhookStore } from "../src/cassandra-webhook-store.js";
import type { CassandraStoreOptions } from "../src/cassandra-session.js";
import type { QueryHook } from "../src/message-store.js";

/** Keyspace the storage tests use, apart from the `chorus` keyspace of a dev cluster. */
export const TEST_KEYSPACE = "chorus_test";

function testStoreOptions(onQuery?: QueryHook): CassandraStoreOptions {
  return {
    contactPoints: cassandraContactPoints(),
    localDataCenter: process.env.CHORUS_CASSANDRA_LOCAL_DC ?? "datacenter1",
    keyspace: TEST_KEYSPACE,
    replication: "SimpleStrategy:1",
    consistency: "localQuorum",
    requestTimeoutMs: 5000,
    onQuery,
  };
}

export async function cassandraStore(onQuery?: QueryHook): Promise<CassandraMessageStore> {
  await requireCassandra();
  const store = new CassandraMessageStore(testStoreOptions(onQuery));
  await store.open();
  return store;
}

/** An open account store on the test keyspace; `claimSettleMs` as in CassandraAccountStoreOptions. */
export async function cassandraAccountStore(claimSettleMs?: number): Promise<CassandraAccountStore> {
  await requireCassandra();
  const store = new CassandraAccountStore({ ...testStoreOptions(), claimSettleMs });
  await store.open();
  return store;
}

/** An open guild store on the test keyspace. */
export async function cassandraGuildStore(onQuery?: QueryHook): Promise<CassandraGuildStore> {
  await requireCassandra();
  const store = new CassandraGuildStore(testStoreOptions(onQuery));
  await store.open();
  return store;
}

/** An open device store on the test keyspace. */
export async function cassandraDeviceStore(): Promise<CassandraDeviceStore> {
  await requireCassandra();
  const store = new CassandraDeviceStore(testStoreOptions());
  await store.open();
  return store;
}

/** An open command store on the test keyspace. */
export async function cassandraCommandStore(): Promise<CassandraCommandStore> {
  await requireCassandra();
  const store = new CassandraCommandStore(testStoreOptions());
  await store.open();
  return store;
}

/** An open webhook store on the test keyspace. */
export async function cassandraWebhookStore(): Promise<CassandraWebhookStore> {
  await requireCassandra();
  const store = new CassandraWebhookStore(testStoreOptions());
  await store.open();
  return store;
}

/** A plain driver client on the test cluster, to read and plant raw rows; the caller shuts it down. */
export async function rawCassandraClient(): Promise<cassandra.Client> {
  await requireCassandra();
  const client = new cassandra.Client({
    contactPoints: cassandraContactPoints(),
    localDataCenter: process.env.CHORUS_CASSANDRA_LOCAL_DC ?? "datacenter1",
    encoding: { useBigIntAsLong: true },
  });
  await client.connect();
  return client;
}

/** Environment for a storage service process that uses the test keyspace. */
export function storageProcessEnv(): Record<string, string> {
  return {
    CHORUS_STORAGE_BACKEND: "cassandra",
    CHORUS_CASSANDRA_CONTACT_POINTS: cassandraContactPoints().join(","),
    CHORUS_CASSANDRA_KEYSPACE: TEST_KEYSPACE,
  };
}
