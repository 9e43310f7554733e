// `npm start`: every Chorus service in this one process, with no external infrastructure.
import { runEmbedded } from "@chorus/mesh";
import { allServices } from "./all-services.js";

const chorus = await runEmbedded(allServices);
const width = Math.max(...Object.keys(chorus.urls).map((k) => k.length));
process.stdout.write(
  "\nChorus is running (embedded mode):\n" +
    Object.entries(chorus.urls)
      .map(([name, url]) => `  ${name.padEnd(width)}  ${url}`)
      .join("\n") +
    "\n\n",
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void chorus.stop().then(() => process.exit(0));
  });
}
