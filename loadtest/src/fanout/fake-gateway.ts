// A stand-in Discord gateway for checking the fan-out harness itself (scenario fanout-harness):
// HELLO, IDENTIFY → READY (no guilds), heartbeat ACKs, and on command from its parent process
// MESSAGE_CREATEs shaped like Chorus's (same marker, ~800 bytes) sent to every session at a
// fixed rate. Runs as its own process so that its CPU is not the harness's.
import { WebSocketServer, type WebSocket } from "ws";
import { messageContent, nowMs } from "./protocol.js";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
const sockets = new Set<WebSocket>();
const seqs = new WeakMap<WebSocket, number>();

server.on("connection", (socket) => {
  socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41250 }, s: null, t: null }));
  socket.on("message", (raw) => {
    const p = JSON.parse(raw.toString()) as { op: number };
    if (p.op === 1) socket.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
    if (p.op === 2) {
      seqs.set(socket, 1);
      socket.send(JSON.stringify({ op: 0, t: "READY", s: 1, d: { v: 10, user: { id: "1" }, guilds: [], session_id: "x", resume_gateway_url: "" } }));
      sockets.add(socket);
    }
  });
  socket.on("close", () => sockets.delete(socket));
});

/** The `d` of a MESSAGE_CREATE as Chorus renders it, around the benchmark content. */
function messageData(run: string, seq: number, sentMs: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 0,
      tts: false,
      timestamp: new Date(sentMs).toISOString(),
      pinned: false,
      nonce: String(seq),
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      member: { roles: [], premium_since: null, pending: false, nick: null, mute: false, joined_at: new Date().toISOString(), flags: 0, deaf: false, communication_disabled_until: null, banner: null, avatar: null },
      id: "1575199420411396098",
      flags: 0,
      embeds: [],
      edited_timestamp: null,
      content: messageContent(run, seq, sentMs),
      components: [],
      channel_type: 0,
      channel_id: "1575199420411396098",
      author: { username: "fo0000000u0", public_flags: 0, primary_guild: null, id: "1575199419891920896", global_name: null, discriminator: "0", collectibles: null, clan: null, avatar_decoration_data: null, avatar: null },
      attachments: [],
      guild_id: "1575199419891920896",
    }),
  );
}

process.on("message", (m: { type: "send"; run: string; rate: number; durationS: number }) => {
  if (m.type !== "send") return;
  const start = nowMs();
  let seq = 1;
  const total = Math.round(m.rate * m.durationS);
  const tick = () => {
    const now = nowMs();
    while (seq <= total && start + ((seq - 1) * 1000) / m.rate <= now) {
      const data = messageData(m.run, seq, start + ((seq - 1) * 1000) / m.rate);
      for (const socket of sockets) {
        const s = (seqs.get(socket) ?? 1) + 1;
        seqs.set(socket, s);
        socket.send(Buffer.concat([Buffer.from(`{"op":0,"t":"MESSAGE_CREATE","s":${s},"d":`), data, Buffer.from("}")]), { binary: false });
      }
      seq++;
    }
    if (seq <= total) setTimeout(tick, 1);
    else process.send!({ type: "sent", messages: total, cpu: process.cpuUsage() });
  };
  tick();
});

server.on("listening", () => {
  const address = server.address() as { port: number };
  process.send!({ type: "listening", url: `ws://127.0.0.1:${address.port}` });
});
