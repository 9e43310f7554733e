// Preload (`node --import …/cpu-profile.js`) that CPU-profiles a process from start to exit and
// writes a .cpuprofile (Chrome DevTools / speedscope format) into CHORUS_BENCH_CPU_PROF_DIR.
// Node 20 refuses --cpu-prof in NODE_OPTIONS; --import is allowed, so benchmarks profile the
// service processes they start this way.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const dir = process.env.CHORUS_BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 }); // µs
  session.post("Profiler.start");
  // On the main thread the inspector answers synchronously, so this works inside 'exit'.
  process.once("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
      process.stderr.write(`cpu profile written to ${file}\n`);
    });
  });
}
