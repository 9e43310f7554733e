// http_ece ships no types: the part the local Web Push endpoint uses.
declare module "http_ece" {
  import type { ECDH } from "node:crypto";
  interface EceParams {
    version?: "aes128gcm" | "aesgcm" | "aesgcm128";
    privateKey?: ECDH;
    dh?: string | Buffer;
    authSecret?: string | Buffer;
    keyid?: string | Buffer;
    keymap?: Record<string, ECDH>;
    salt?: string | Buffer;
    rs?: number;
  }
  const ece: {
    decrypt(buffer: Buffer, params: EceParams): Buffer;
    encrypt(buffer: Buffer, params: EceParams): Buffer;
  };
  export default ece;
}
