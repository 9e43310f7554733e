import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  /** PEM private key. */
  key: string;
  /** PEM self-signed certificate for 127.0.0.1 and localhost: what clients must trust (their CA). */
  cert: string;
}

/**
 * A fresh self-signed certificate (P-256, valid one day) for local TLS endpoints, made by the
 * `openssl` command line (node:crypto cannot issue certificates). Fails saying so when openssl
 * is missing.
 */
export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "chorus-cert-"));
  try {
    const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    try {
      execFileSync(
        "openssl",
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=chorus test endpoint", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
    } catch (err) {
      throw new Error(`could not make a test certificate with openssl (install the openssl package): ${err instanceof Error ? err.message : String(err)}`);
    }
    return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
