#!/usr/bin/env node
// The heaviest functions of a .cpuprofile (V8 sampling profile, as --cpu-prof or the benchmarks'
// cpu-profile.js preload write them): self time and total (inclusive) time per function, and
// self time per package (node_modules/<name>, node: internals, the Chorus workspace).
//
//   node loadtest/dist/src/profile-top.js FILE.cpuprofile [--top N] [--match TEXT] [--window REPORT.json]
//
// --match keeps only the samples whose stack contains a frame whose function or URL has TEXT
// (e.g. --match deliver), to look at one path. --window keeps only the samples inside the
// measured window of a fanout --json report (results.window.monotonicUs: V8 profiles and
// process.hrtime share CLOCK_MONOTONIC), so setup work does not blur the picture.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "25" }, match: { type: "string" }, window: { type: "string" } } });
if (positionals.length !== 1) {
  console.error("usage: node loadtest/dist/src/profile-top.js FILE.cpuprofile [--top N] [--match TEXT] [--window REPORT.json]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], "utf8")) as Profile;
const top = Number(values.top);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\/.*?\/node_modules\//, "")
    .replace(/^file:\/\/.*?\/work\/main\//, "")
    .replace(/^file:\/\//, "");
const label = (f: CallFrame) => `${f.functionName || "(anonymous)"} ${f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : ""}`.trim();
const packageOf = (f: CallFrame): string => {
  if (!f.url) return f.functionName.startsWith("(") ? f.functionName : "(native)";
  if (f.url.startsWith("node:")) return "node:" + f.url.slice(5).split("/")[0];
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  if (nm) return nm[1];
  const ws = /\/work\/main\/((?:services|libs)\/[^/]+|[^/]+)/.exec(f.url);
  return ws ? ws[1] : f.url;
};

let from = -Infinity;
let to = Infinity;
if (values.window) {
  const report = JSON.parse(readFileSync(values.window, "utf8")) as { results?: { window?: { monotonicUs?: { start: number; end: number } } } };
  const w = report.results?.window?.monotonicUs;
  if (!w) throw new Error(`${values.window} has no results.window.monotonicUs (a fanout --json report)`);
  [from, to] = [w.start, w.end];
}

// Time per sample: the delta that follows it; its time stamp: startTime + the deltas so far.
let stamp = profile.startTime;
const self = new Map<string, number>();
const total = new Map<string, number>();
const packages = new Map<string, number>();
let all = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  stamp += profile.timeDeltas[i] ?? 0;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  if (stamp < from || stamp > to) continue;
  const leaf = byId.get(profile.samples[i])!;
  const stack: CallFrame[] = [];
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!.callFrame);
  if (leaf.callFrame.functionName === "(idle)") {
    idle += dt;
    continue;
  }
  if (values.match && !stack.some((f) => f.functionName.includes(values.match!) || f.url.includes(values.match!))) continue;
  all += dt;
  const l = label(leaf.callFrame);
  self.set(l, (self.get(l) ?? 0) + dt);
  const p = packageOf(leaf.callFrame);
  packages.set(p, (packages.get(p) ?? 0) + dt);
  for (const f of new Set(stack.map(label))) total.set(f, (total.get(f) ?? 0) + dt);
}

const wall = (Math.min(to, profile.endTime) - Math.max(from, profile.startTime)) / 1e6;
const pct = (v: number) => `${((100 * v) / all).toFixed(1).padStart(5)} %`;
const sec = (v: number) => `${(v / 1e6).toFixed(2).padStart(7)} s`;
console.log(`${positionals[0]}: ${wall.toFixed(1)} s profiled${values.window ? " (the measured window)" : ""}, ${sec(all).trim()} busy${values.match ? ` (stacks matching "${values.match}")` : ""}, ${sec(idle).trim()} idle`);
const print = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(v)} ${sec(v)}  ${k}`);
};
print("self time by package", packages, 15);
print("self time by function", self, top);
print("total (inclusive) time by function", total, top);
