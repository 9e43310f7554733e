import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  /** PEM private key of the server certificate. */
  key: string;
  /** PEM server certificate for 127.0.0.1 and localhost, issued by `ca`. */
  cert: string;
  /** PEM certificate of the issuing CA: what clients must trust. */
  ca: string;
}

/**
 * A fresh test CA and a server certificate it issued (P-256, valid one day) for local TLS
 * endpoints, made by the `openssl` command line (node:crypto cannot issue certificates). The
 * server certificate is a proper leaf (not a CA, serverAuth, subjectAltName), as strict
 * verifiers such as rustls's require. Fails saying so when openssl is missing.
 */
export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "chorus-cert-"));
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  try {
    try {
      openssl(["req", "-x509", ...ec, "-days", "1", "-subj", "/CN=chorus test CA", "-keyout", file("ca.key"), "-out", file("ca.pem")]);
      openssl(["req", "-new", ...ec, "-subj", "/CN=chorus test endpoint", "-keyout", file("key.pem"), "-out", file("leaf.csr")]);
      writeFileSync(file("leaf.ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
      openssl(["x509", "-req", "-in", file("leaf.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-set_serial", "1", "-days", "1", "-extfile", file("leaf.ext"), "-out", file("cert.pem")]);
    } catch (err) {
      throw new Error(`could not make a test certificate with openssl (install the openssl package): ${err instanceof Error ? err.message : String(err)}`);
    }
    return { key: readFileSync(file("key.pem"), "utf8"), cert: readFileSync(file("cert.pem"), "utf8"), ca: readFileSync(file("ca.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
