// The command storage contract on a real Cassandra (the same suite as SQLite).
import { describeCommandConformance } from "./command-conformance.js";
import { cassandraCommandStore } from "./cassandra-fixture.js";

describeCommandConformance("cassandra", () => cassandraCommandStore());
