// A minimal RFC 6455 WebSocket client for the fan-out harness's gateway sessions, on a plain TCP
// socket read with `onread` (one static buffer per thread, no stream machinery): receiving a
// frame costs a read callback and a header parse, several times less CPU than `ws`'s streams
// (see loadtest/README.md), so 10,000 sessions take less of the cores the server under test
// shares. Enough for a benchmark client: ws:// only, text/binary/continuation, close, ping/pong,
// no extensions (permessage-deflate is never offered).
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export interface RawWebSocketHandlers {
  onOpen(): void;
  /** A complete message; `data` is only valid during the call (it may view a shared buffer). */
  onMessage(data: Buffer, isText: boolean): void;
  /** Once, when the connection is gone: the close code the server sent, else 1006. */
  onClose(code: number): void;
  onError(err: Error): void;
}

/** One read buffer for every socket of the thread: a read's bytes are consumed before the next read. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export class RawWebSocket {
  private readonly socket: Socket;
  private handshake?: Buffer = Buffer.alloc(0);
  private readonly key = randomBytes(16).toString("base64");
  /** Bytes of an incomplete frame (copied out of the shared read buffer). */
  private pending?: Buffer;
  /** Payloads of a fragmented message so far. */
  private fragments?: Buffer[];
  private fragmentsText = false;
  /** The close code the server sent in a close frame. */
  private closedCode?: number;
  private ended = false;
  private open = false;
  private timer?: NodeJS.Timeout;

  constructor(
    url: string,
    private readonly handlers: RawWebSocketHandlers,
    handshakeTimeoutMs = 30_000,
  ) {
    const u = new URL(url);
    if (u.protocol !== "ws:") throw new Error(`only ws:// URLs are supported, got ${url}`);
    const host = u.hostname.replace(/^\[|\]$/g, "");
    const port = Number(u.port || 80);
    const path = `${u.pathname || "/"}${u.search}`;
    this.socket = connect({ host, port, noDelay: true, onread: { buffer: READ_BUFFER, callback: (n: number) => this.onRead(READ_BUFFER.subarray(0, n)) } });
    this.timer = setTimeout(() => this.fail(new Error(`WebSocket handshake not done within ${handshakeTimeoutMs} ms`)), handshakeTimeoutMs);
    this.socket.once("connect", () => {
      this.socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on("error", (err) => this.fail(err));
    this.socket.on("close", () => this.closed(this.closedCode ?? 1006));
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Sends one text message (masked, as a client must). */
  send(text: string): void {
    if (!this.open) return;
    const payload = Buffer.from(text);
    const n = payload.length;
    const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headerLength + 4 + n);
    frame[0] = 0x81; // FIN, text
    if (n < 126) frame[1] = 0x80 | n;
    else if (n < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(n, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(n), 2);
    }
    const mask = randomBytes(4);
    mask.copy(frame, headerLength);
    for (let i = 0; i < n; i++) frame[headerLength + 4 + i] = payload[i] ^ mask[i & 3];
    this.socket.write(frame);
  }

  /** Drops the connection at once (no closing handshake). */
  terminate(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (this.ended) return;
    this.handlers.onError(err);
    this.socket.destroy(); // 'close' follows: onClose(1006)
  }

  private closed(code: number): void {
    if (this.ended) return;
    this.ended = true;
    this.open = false;
    clearTimeout(this.timer);
    this.handlers.onClose(code);
  }

  /** Always true: returning false would pause the socket. */
  private onRead(chunk: Buffer): boolean {
    if (!this.ended) this.consume(chunk);
    return true;
  }

  private consume(chunk: Buffer): void {
    if (this.handshake) {
      const all = Buffer.concat([this.handshake, chunk]);
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) {
        this.handshake = all;
        return;
      }
      const head = all.subarray(0, end).toString("latin1");
      const accept = createHash("sha1").update(this.key + GUID).digest("base64");
      if (!/^HTTP\/1\.1 101 /.test(head)) return this.fail(new Error(`unexpected server response: ${head.split("\r\n")[0]}`));
      const acceptHeader = head
        .split("\r\n")
        .find((line) => line.toLowerCase().startsWith("sec-websocket-accept:"))
        ?.slice("sec-websocket-accept:".length)
        .trim();
      if (acceptHeader !== accept) return this.fail(new Error(`bad Sec-WebSocket-Accept: ${acceptHeader}`));
      this.handshake = undefined;
      this.open = true;
      clearTimeout(this.timer);
      this.handlers.onOpen();
      const rest = all.subarray(end + 4);
      if (rest.length) this.onFrames(rest);
      return;
    }
    this.onFrames(chunk);
  }

  private onFrames(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < buf.length) {
      if (buf.length - at < 2) break;
      const b0 = buf[at];
      const b1 = buf[at + 1];
      if (b1 & 0x80) return this.fail(new Error("the server sent a masked frame"));
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buf.length - at < 4) break;
        length = buf.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (buf.length - at < 10) break;
        length = Number(buf.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (buf.length - at < header + length) break;
      const payload = buf.subarray(at + header, at + header + length);
      at += header + length;
      this.onFrame(b0 & 0x80 ? true : false, b0 & 0x0f, payload);
      if (this.ended) return;
    }
    // Keep an incomplete frame (a copy: the read buffer is reused).
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x1:
      case 0x2:
        if (fin) return this.handlers.onMessage(payload, opcode === 0x1);
        this.fragments = [Buffer.from(payload)];
        this.fragmentsText = opcode === 0x1;
        return;
      case 0x0:
        if (!this.fragments) return this.fail(new Error("a continuation frame without a start"));
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = undefined;
          this.handlers.onMessage(whole, this.fragmentsText);
        }
        return;
      case 0x8: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closedCode = code;
        // Answer the closing handshake with the same code, then end the connection.
        this.writeControl(0x8, payload.subarray(0, 2));
        this.socket.end();
        this.closed(code);
        return;
      }
      case 0x9:
        this.writeControl(0xa, payload);
        return;
      case 0xa:
        return;
      default:
        this.fail(new Error(`unknown opcode ${opcode}`));
    }
  }

  private writeControl(opcode: number, payload: Buffer): void {
    if (this.socket.destroyed) return;
    const frame = Buffer.allocUnsafe(6 + payload.length);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | payload.length;
    const mask = randomBytes(4);
    mask.copy(frame, 2);
    for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i & 3];
    this.socket.write(frame);
  }
}
