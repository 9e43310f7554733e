#!/usr/bin/env node
// The one entry point of every benchmark:
//
//   node loadtest/dist/src/bench.js <scenario> [options] [--json FILE]
//   npm run bench -- <scenario> [options] [--json FILE]     (builds and brings up infrastructure first)
//
// A scenario is a file src/scenarios/<name>.ts exporting `scenario` (see scenario.ts); adding one
// needs no change here. Prints a short aligned table on stdout; --json writes the full report.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { machineBusyCores } from "./process-stats.js";
import { UsageError, type PhaseResult, type Scenario, type ScenarioReport } from "./scenario.js";

const SCENARIO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "scenarios");

function scenarioNames(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith(".js"))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function loadScenario(name: string): Promise<Scenario | undefined> {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !scenarioNames().includes(name)) return undefined;
  const module = (await import(pathToFileURL(resolve(SCENARIO_DIR, `${name}.js`)).href)) as { scenario?: Scenario };
  return module.scenario;
}

async function listing(): Promise<string> {
  const lines = ["usage: npm run bench -- <scenario> [options] [--json FILE]", "", "scenarios:"];
  const names = scenarioNames();
  const width = Math.max(10, ...names.map((n) => n.length));
  for (const name of names) {
    const s = await loadScenario(name);
    if (s) lines.push(`  ${name.padEnd(width)} ${s.summary}`);
  }
  lines.push("", "`npm run bench -- <scenario> --help` lists a scenario's options.");
  return lines.join("\n");
}

function scenarioHelp(s: Scenario): string {
  const lines = [`usage: npm run bench -- ${s.name} [options] [--json FILE]`, "", s.summary, "", "options:"];
  const rows = Object.entries(s.options).map(([name, o]) => {
    const def = o.default === undefined || o.default === "" || o.default === false ? "" : ` (default ${String(o.default)})`;
    const metavar = s.metavars?.[name] ?? (/^\d+$/.test(String(o.default)) ? "N" : "TEXT");
    return [`--${name}${o.type === "string" ? ` ${metavar}` : ""}`, `${s.help[name] ?? ""}${def}`];
  });
  rows.push(["--json FILE", "write the full report as JSON to FILE"], ["--help", "this help"]);
  const width = Math.max(...rows.map(([a]) => a.length));
  for (const [a, b] of rows) lines.push(`  ${a.padEnd(width)}  ${b}`);
  return lines.join("\n");
}

// ------------------------------------------------------------------------------ output

const fixed = (digits: number) => (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));

/** A latency percentile; "–" when nothing completed. */
const ms = (p: PhaseResult, which: "p50" | "p95" | "p99" | "max") => (p.latencyMs.count > 0 ? fixed(2)(p.latencyMs[which]) : "–");

interface Column {
  title: string;
  value: (p: PhaseResult) => string;
  /** Shown only when some phase has a value. */
  optional?: (p: PhaseResult) => boolean;
}

const COLUMNS: Column[] = [
  { title: "phase", value: (p) => p.name },
  { title: "attempted", value: (p) => String(p.attempted) },
  { title: "completed", value: (p) => String(p.completed) },
  { title: "errors", value: (p) => String(p.errors) },
  { title: "ops/s", value: (p) => fixed(1)(p.achievedPerSec) },
  { title: "p50 ms", value: (p) => ms(p, "p50") },
  { title: "p95 ms", value: (p) => ms(p, "p95") },
  { title: "p99 ms", value: (p) => ms(p, "p99") },
  { title: "max ms", value: (p) => ms(p, "max") },
  { title: "svc CPU s", value: (p) => fixed(2)(p.serviceProcess?.cpuSeconds), optional: (p) => !!p.serviceProcess },
  { title: "svc RSS MB", value: (p) => fixed(0)(p.serviceProcess?.peakRssMb), optional: (p) => !!p.serviceProcess },
  { title: "db CPU s", value: (p) => fixed(2)(p.databaseProcess?.cpuSeconds), optional: (p) => !!p.databaseProcess },
  { title: "bench CPU s", value: (p) => fixed(2)(p.benchProcess?.cpuSeconds), optional: (p) => !!p.benchProcess },
  { title: "other CPU s", value: (p) => fixed(2)(p.machine?.otherCpuSeconds), optional: (p) => p.machine?.otherCpuSeconds !== undefined },
  { title: "db q/op", value: (p) => (p.db ? String(p.db.queriesPerOp) : "–"), optional: (p) => !!p.db },
];

/** Rows as aligned columns: the first left-aligned, the others (numbers) right-aligned. */
function alignRows(cells: string[][]): string[] {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  return cells.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ").trimEnd());
}

export function formatReport(report: ScenarioReport): string {
  const out = [report.title, ""];
  for (const table of report.tables ?? []) {
    if (table.title) out.push(table.title);
    out.push(...alignRows([table.header, ...table.rows]), "");
  }
  if (report.phases.length) {
    const columns = COLUMNS.filter((c) => !c.optional || report.phases.some(c.optional));
    out.push(...alignRows([columns.map((c) => c.title), ...report.phases.map((p) => columns.map((c) => c.value(p)))]), "");
  }
  const nameWidth = Math.max(0, ...report.checks.map((c) => c.name.length));
  const targetWidth = Math.max(0, ...report.checks.map((c) => c.target.length));
  if (report.checks.length) {
    out.push("targets:");
    for (const c of report.checks) {
      out.push(`  ${c.pass ? "PASS" : "MISS"}  ${c.name.padEnd(nameWidth)}  ${c.target.padEnd(targetWidth)}  ${c.actual}`);
    }
    out.push("");
  }
  for (const note of report.notes) out.push(note);
  const errors = report.phases.filter((p) => p.errors > 0);
  for (const p of errors) {
    out.push(`errors in "${p.name.replace(/\s+/g, " ")}":`);
    for (const [kind, n] of Object.entries(p.errorKinds).sort((a, b) => b[1] - a[1]).slice(0, 5)) out.push(`  ${n} × ${kind}`);
  }
  return out.join("\n");
}

const json = (value: unknown) =>
  JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n";

// ------------------------------------------------------------------------------ main

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name.startsWith("-")) {
    const wantsHelp = name === "--help" || name === "-h";
    (wantsHelp ? console.log : console.error)(await listing());
    return wantsHelp ? 0 : 2;
  }
  const scenario = await loadScenario(name);
  if (!scenario) {
    console.error(`unknown scenario "${name}"\n\n${await listing()}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { ...scenario.options, json: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${scenarioHelp(scenario)}`);
    return 2;
  }
  if (values.help) {
    console.log(scenarioHelp(scenario));
    return 0;
  }
  // npm runs scripts from the repository root; a relative --json is relative to where npm was run.
  const jsonFile = typeof values.json === "string" ? resolve(process.env.INIT_CWD ?? process.cwd(), values.json) : undefined;

  // Benchmarks on a shared machine: say so when something else already keeps the cores busy.
  const busyBefore = await machineBusyCores(1000);
  let report: ScenarioReport;
  try {
    report = await scenario.run(values);
    report.environment.busyCoresBeforeRun = busyBefore;
    if (busyBefore !== undefined && busyBefore > 0.5) {
      report.notes.push(
        `WARNING: ${busyBefore.toFixed(2)} of ${availableParallelism()} cores were already busy before the run (other processes); ` +
          `the numbers are noisy (see "other CPU s")`,
      );
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${scenarioHelp(scenario)}`);
      return 2;
    }
    throw err;
  }
  console.log(formatReport(report));
  if (jsonFile) {
    mkdirSync(dirname(jsonFile), { recursive: true });
    writeFileSync(jsonFile, json(report));
    console.error(`bench: wrote ${jsonFile}`);
  }
  return 0;
}

// Ctrl-C or a kill: exit through process.exit so that exit hooks stop the processes a scenario
// started (@chorus/testing kills its service processes on exit).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping`);
    process.exit(130);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  },
);
