// The storage contract on a real Cassandra: the same conformance suite as SQLite.
import { describeStorageConformance } from "./conformance.js";
import { cassandraStore } from "./cassandra-fixture.js";

describeStorageConformance("cassandra", (onQuery) => cassandraStore(onQuery));
