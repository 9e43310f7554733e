// Preload (`node --expose-gc --import …/gc-on-signal.js`) that runs a full, memory-reducing
// garbage collection when the process receives SIGUSR2, so a benchmark can measure what a
// service process really retains rather than garbage not yet collected or heap pages kept for
// reuse. The "last-resort" flavour compacts and returns free pages as V8's memory reducer does
// on its own once a process has been idle for a while (and as it does under memory pressure);
// a plain gc() leaves the headroom a burst of allocations grew. Benchmark-only: it changes
// nothing else in the process.
type GcOptions = { type: "major"; execution: "sync"; flavor: "last-resort" };
const gc = (globalThis as { gc?: (options?: GcOptions) => void }).gc;
if (typeof gc === "function") {
  process.on("SIGUSR2", () => gc({ type: "major", execution: "sync", flavor: "last-resort" }));
}
