import type { ParseArgsConfig } from "node:util";
import type { LatencySummary } from "./latency.js";
import type { ProcessUsage } from "./process-stats.js";

/** Options a scenario accepts, in node:util parseArgs form (values arrive as strings or booleans). */
export type ScenarioOptions = NonNullable<ParseArgsConfig["options"]>;
export type OptionValues = Record<string, string | boolean | undefined>;

/**
 * One benchmark scenario: src/scenarios/<name>.ts exporting `scenario`. The entry point
 * (bench.ts) finds the scenarios by file name, parses their options, prints their report.
 */
export interface Scenario {
  name: string;
  /** One line for the list of scenarios. */
  summary: string;
  /** Its options, each with a `default` (bench.ts shows them in --help) and a help line below. */
  options: ScenarioOptions;
  help: Record<string, string>;
  /** Placeholders shown in --help for string options (default: N for numeric defaults, else TEXT). */
  metavars?: Record<string, string>;
  run(values: OptionValues): Promise<ScenarioReport>;
}

/** One measured phase, one row of the table. */
export interface PhaseResult {
  name: string;
  /** What was asked, e.g. "InsertMessage". */
  operation: string;
  /** The way to the database: "service" or "driver". */
  via: string;
  /** open-loop at a fixed rate, or a burst of concurrent requests. */
  mode: "open-loop" | "burst";
  attempted: number;
  completed: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Requested rate (open loop). */
  targetPerSec?: number;
  achievedPerSec: number;
  elapsedMs: number;
  /** From the intended send time (open loop) or from the burst's start. */
  latencyMs: LatencySummary;
  /** From the actual send (open loop). */
  serviceTimeMs?: LatencySummary;
  sendLagMs?: LatencySummary;
  /** The storage service process during the measured window. */
  serviceProcess?: ProcessUsage;
  /** The database process (when its pid is known), for the same window. */
  databaseProcess?: ProcessUsage;
  /** This load generator itself. */
  benchProcess?: { cpuSeconds: number; cpuPercent: number };
  /**
   * The whole machine over the window: CPU seconds used by every process, and what is left
   * after the service, the database and this generator (other processes: noise).
   */
  machine?: { busyCpuSeconds: number; busyCores: number; otherCpuSeconds?: number };
  /** Database round trips and coalesced reads counted by the service over the window. */
  db?: { queries: number; coalesced: number; queriesPerOp: number };
}

export interface Check {
  name: string;
  target: string;
  actual: string;
  pass: boolean;
}

export interface ScenarioReport {
  scenario: string;
  /** One line describing the run (rate, duration, sizes, target). */
  title: string;
  startedAt: string;
  finishedAt: string;
  environment: Record<string, unknown>;
  options: Record<string, unknown>;
  phases: PhaseResult[];
  checks: Check[];
  /** Extra lines printed under the table (ratios, derived numbers). */
  notes: string[];
  /**
   * Tables of the scenario's own shape, printed before the phase table (scenarios whose rows
   * are not open-loop phases, e.g. fanout, leave `phases` empty and use these).
   */
  tables?: ReportTable[];
  /** Scenario-specific results for the JSON report. */
  results?: Record<string, unknown>;
}

/** A table printed as aligned columns: the first column left-aligned, the others right-aligned. */
export interface ReportTable {
  title?: string;
  header: string[];
  rows: string[][];
}

/** A bad option value: bench.ts prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
