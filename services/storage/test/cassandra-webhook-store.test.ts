// The webhook storage contract on a real Cassandra (the same suite as SQLite).
import { describeWebhookConformance } from "./webhook-conformance.js";
import { cassandraWebhookStore } from "./cassandra-fixture.js";

describeWebhookConformance("cassandra", () => cassandraWebhookStore());
