// Preload (`node --expose-gc --import …/gc-on-signal.js`) that runs a full garbage collection
// when the process receives SIGUSR2, so a benchmark can measure what a service process really
// retains (heap after GC) rather than garbage not yet collected. Benchmark-only: it changes
// nothing else in the process.
const gc = (globalThis as { gc?: () => void }).gc;
if (typeof gc === "function") {
  process.on("SIGUSR2", () => gc());
}
