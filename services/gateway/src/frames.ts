/**
 * Dispatch frames as bytes: the producer serialized the event's `d` once; every session gets
 * it between a prefix carrying its own `s` and a closing brace, so the JSON is never parsed or
 * re-serialized per session.
 */
const SUFFIX = Buffer.from("}");

export function dispatchFrame(event: string, seq: number, data: Buffer): Buffer {
  const prefix = Buffer.from(`{"op":0,"t":"${event}","s":${seq},"d":`);
  return Buffer.concat([prefix, data, SUFFIX], prefix.length + data.length + 1);
}

/** Dispatch names are upper-case words (MESSAGE_CREATE...): safe to splice into JSON as they are. */
export const isDispatchName = (event: string) => /^[A-Z][A-Z0-9_]{0,63}$/.test(event);

/** A non-dispatch payload (HELLO, HEARTBEAT_ACK, INVALID_SESSION...). */
export const controlFrame = (op: number, d: unknown = null) => Buffer.from(JSON.stringify({ op, d, s: null, t: null }));
