// The device storage contract on a real Cassandra (the same suite as SQLite).
import { describeDeviceConformance } from "./device-conformance.js";
import { cassandraDeviceStore } from "./cassandra-fixture.js";

describeDeviceConformance("cassandra", () => cassandraDeviceStore());
