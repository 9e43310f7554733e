import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";

/** Root of the Chorus checkout (this file is libs/testing/dist/src/repo.js once built). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export function repoPath(...parts: string[]): string {
  return resolve(repoRoot, ...parts);
}
