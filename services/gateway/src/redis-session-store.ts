import type { Redis } from "ioredis";
import { lookupUserSessions, sessionKeys, type UserSession } from "@chorus/session-directory";
import type {
  BufferedDispatch,
  DeliveryBatch,
  EndedSession,
  NewSession,
  SessionDeliveries,
  SessionStore,
  StoredSession,
} from "./session-store.js";

/**
 * Sessions in Redis (layout in @chorus/session-directory and the README). Every multi-key change
 * is one Lua script, so nodes racing on a session (a resume against a delivery, two
 * sweepers) always see it whole.
 *
 * The scripts build keys from a prefix instead of declaring them: they need a single Redis
 * (or a Sentinel pair), not Redis Cluster.
 */

/**
 * `value` turns a missing field into nil (Redis gives false; the in-process stand-in a null
 * userdata). Lua 5.1 (Redis) has no `&`: `hasbit` says whether two bit sets share a bit.
 */
const HELPERS = `
local function value(x)
  if type(x) == 'string' or type(x) == 'number' then return x end
  return nil
end
local function hasbit(a, b)
  if b == 0 then return true end
  while a > 0 and b > 0 do
    if a % 2 == 1 and b % 2 == 1 then return true end
    a = math.floor(a / 2)
    b = math.floor(b / 2)
  end
  return false
end`;

/**
 * A batch of dispatches for many sessions in one step. No KEYS. ARGV: prefix, ttl, buffer
 * size, number of sessions S, number of dispatches D, the S session ids, then 8 fields per
 * dispatch: delivery id, event, data, data without content ("" none), required intents, guild
 * change ("+id", "-id" or ""), target session indexes (0-based, comma-separated; "*" all),
 * content-exempt session indexes (comma-separated). Returns per session (first seq, instance,
 * marks): marks holds one character per dispatch: 'c' numbered with data, 'n' numbered with
 * the content-free data, '0' not for this session (unknown, ended, intents, not a target),
 * '-' already delivered; the numbered ones got first seq, first seq + 1, ... in batch order.
 * A session's share costs one HINCRBY and one RPUSH whatever the batch size. Who got a
 * delivery is a set beside it (`r:<delivery id>`), checked member by member only when it
 * exists (a later slice of the same dispatch, or a retry); a buffer is trimmed in steps of 64
 * past its size.
 */
const DELIVER_BATCH = `${HELPERS}
local prefix, ttl, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local ns, nd = tonumber(ARGV[4]), tonumber(ARGV[5])
local function indexset(csv)
  if csv == '*' then return nil end
  local set = {}
  for i in string.gmatch(csv, '%d+') do set[tonumber(i)] = true end
  return set
end
local ds = {}
for j = 1, nd do
  local o = 5 + ns + (j - 1) * 8
  local d = { did = ARGV[o + 1], event = ARGV[o + 2], data = ARGV[o + 3], nodata = ARGV[o + 4],
    required = tonumber(ARGV[o + 5]), change = ARGV[o + 6], only = indexset(ARGV[o + 7]),
    exempt = indexset(ARGV[o + 8]), got = {} }
  d.key = prefix .. 'd:' .. d.did
  d.rkey = prefix .. 'r:' .. d.did
  -- Sessions that already got it (a retried batch): only looked up when some did, one set
  -- member per check, so a dispatch cut into many calls costs the same per pair as one call.
  d.prior = redis.call('EXISTS', d.rkey) == 1
  ds[j] = d
end
local out = {}
for i = 1, ns do
  local sid, idx = ARGV[5 + i], i - 1
  local sk = prefix .. 's:' .. sid
  local meta = redis.call('HMGET', sk, 'intents', 'content', 'instance')
  local marks, count, instance = {}, 0, ''
  local intents = value(meta[1]) and tonumber(meta[1])
  if intents then instance = value(meta[3]) or '' end
  for j = 1, nd do
    local d, mark = ds[j], '0'
    if intents and (d.only == nil or d.only[idx]) and hasbit(intents, d.required) then
      if d.prior and redis.call('SISMEMBER', d.rkey, sid) == 1 then
        mark = '-'
      else
        d.got[#d.got + 1] = sid
        count = count + 1
        if d.nodata ~= '' and meta[2] ~= '1' and not d.exempt[idx] then mark = 'n' else mark = 'c' end
      end
    end
    marks[j] = mark
  end
  local first = 0
  if count > 0 then
    first = redis.call('HINCRBY', sk, 'seq', count) - count + 1
    local entries, seq = {}, first
    for j = 1, nd do
      local mark, d = marks[j], ds[j]
      if mark == 'c' or mark == 'n' then
        entries[#entries + 1] = seq .. '|' .. d.did .. '|' .. (mark == 'c' and '1' or '0')
        seq = seq + 1
        if d.change ~= '' then
          local gk = prefix .. 'g:' .. sid
          if string.sub(d.change, 1, 1) == '+' then redis.call('SADD', gk, string.sub(d.change, 2)) else redis.call('SREM', gk, string.sub(d.change, 2)) end
          redis.call('EXPIRE', gk, ttl)
        end
      end
    end
    local bk = prefix .. 'b:' .. sid
    local len = redis.call('RPUSH', bk, unpack(entries))
    if len > max + 64 then redis.call('LTRIM', bk, -max, -1) end
    if len == #entries then redis.call('EXPIRE', bk, ttl) end
  end
  out[#out + 1] = first
  out[#out + 1] = instance
  out[#out + 1] = table.concat(marks)
end
for j = 1, nd do
  local d = ds[j]
  if #d.got > 0 then
    if not d.prior then
      redis.call('HSET', d.key, 't', d.event, 'd', d.data)
      if d.nodata ~= '' then redis.call('HSET', d.key, 'n', d.nodata) end
      redis.call('EXPIRE', d.key, ttl)
    end
    -- In slices: Lua's unpack is bounded by its C stack (8,000 values).
    for k = 1, #d.got, 1000 do
      redis.call('SADD', d.rkey, unpack(d.got, k, math.min(k + 999, #d.got)))
    end
    redis.call('EXPIRE', d.rkey, ttl)
  end
end
return out`;

/**
 * Attaches a session to this instance (identify or resume). KEYS[1] the session hash. ARGV:
 * prefix, session id, user id, instance, ttl. Returns false when the session does not exist
 * or is another user's; else (previous instance, gen, intents, content, bot, shard, seq,
 * guild ids comma-separated).
 */
const TAKE_OVER = `${HELPERS}
local prefix, sid, user, me, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local sk = KEYS[1]
local meta = redis.call('HMGET', sk, 'user', 'instance', 'intents', 'content', 'bot', 'shard', 'seq')
if value(meta[1]) ~= user then return false end
local old = value(meta[2]) or ''
local gen = redis.call('HINCRBY', sk, 'gen', 1)
redis.call('HSET', sk, 'instance', me)
redis.call('ZREM', prefix .. 'detached', sid)
if old ~= '' and old ~= me then redis.call('SREM', prefix .. 'i:' .. old, sid) end
redis.call('SADD', prefix .. 'i:' .. me, sid)
redis.call('SADD', prefix .. 'instances', me)
redis.call('HSET', prefix .. 'u:' .. user, sid, me)
for _, k in ipairs({sk, prefix .. 'b:' .. sid, prefix .. 'g:' .. sid, prefix .. 'u:' .. user}) do redis.call('EXPIRE', k, ttl) end
local guilds = redis.call('SMEMBERS', prefix .. 'g:' .. sid)
return {old, gen, value(meta[3]) or '0', value(meta[4]) or '0', value(meta[5]) or '0', value(meta[6]) or '', value(meta[7]) or '0', table.concat(guilds, ',')}`;

/**
 * Detaches a session from this instance, unless someone took it over since. KEYS[1] the
 * session hash. ARGV: prefix, session id, instance, gen, end time (ms). Returns 1 if detached.
 */
const DETACH = `${HELPERS}
local prefix, sid, me, gen, ends = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local meta = redis.call('HMGET', KEYS[1], 'instance', 'gen', 'user')
if value(meta[1]) ~= me or value(meta[2]) ~= gen then return 0 end
redis.call('HSET', KEYS[1], 'instance', '')
redis.call('SREM', prefix .. 'i:' .. me, sid)
redis.call('ZADD', prefix .. 'detached', ends, sid)
redis.call('HSET', prefix .. 'u:' .. meta[3], sid, '')
return 1`;

/**
 * Detaches every session of gateway instances that stopped running (their alive key expired,
 * or ARGV[5] names one to reset), then ends up to ARGV[3] detached sessions whose time is
 * up. ARGV: prefix, now (ms), limit, end time of adopted sessions, forced instance ("" none).
 * Returns (session id, user id, guild ids) per ended session; each is returned to one caller.
 */
const SWEEP = `${HELPERS}
local prefix, now, limit, ends, forced = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
for _, inst in ipairs(redis.call('SMEMBERS', prefix .. 'instances')) do
  if inst == forced or redis.call('EXISTS', prefix .. 'alive:' .. inst) == 0 then
    for _, sid in ipairs(redis.call('SMEMBERS', prefix .. 'i:' .. inst)) do
      local sk = prefix .. 's:' .. sid
      local meta = redis.call('HMGET', sk, 'instance', 'user')
      if value(meta[1]) == inst then
        redis.call('HSET', sk, 'instance', '')
        redis.call('ZADD', prefix .. 'detached', ends, sid)
        redis.call('HSET', prefix .. 'u:' .. meta[2], sid, '')
      end
    end
    redis.call('DEL', prefix .. 'i:' .. inst)
    redis.call('SREM', prefix .. 'instances', inst)
  end
end
local out = {}
for _, sid in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'detached', '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', prefix .. 'detached', sid)
  local sk = prefix .. 's:' .. sid
  local meta = redis.call('HMGET', sk, 'user', 'instance')
  if value(meta[1]) and (value(meta[2]) or '') == '' then
    local guilds = redis.call('SMEMBERS', prefix .. 'g:' .. sid)
    redis.call('DEL', sk, prefix .. 'b:' .. sid, prefix .. 'g:' .. sid)
    redis.call('HDEL', prefix .. 'u:' .. meta[1], sid)
    out[#out + 1] = sid
    out[#out + 1] = meta[1]
    out[#out + 1] = table.concat(guilds, ',')
  end
end
return out`;

type Scripted = Redis & {
  chorusDeliverBatch(...args: (string | Buffer | number)[]): Promise<(number | string)[]>;
  chorusTakeOver(key: string, ...args: (string | number)[]): Promise<string[] | null>;
  chorusDetach(key: string, ...args: (string | number)[]): Promise<number>;
  chorusSweep(...args: (string | number)[]): Promise<string[]>;
};

export interface RedisSessionStoreOptions {
  /** Key prefix (gatewayKeyPrefix). */
  prefix: string;
  /** Registry namespace the prefix was made from (for the directory lookup). */
  namespace?: string;
  instanceId: string;
  bufferSize: number;
  /** Lifetime of session keys without refresh, and of stored dispatches. */
  ttlSeconds: number;
}

const csvIds = (csv: string) => (csv ? csv.split(",").map(BigInt) : []);
const toBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export class RedisSessionStore implements SessionStore {
  private readonly keys: ReturnType<typeof sessionKeys>;
  private readonly redis: Scripted;
  private subscriber?: Redis;

  constructor(
    redis: Redis,
    private readonly options: RedisSessionStoreOptions,
  ) {
    this.keys = sessionKeys(options.prefix);
    redis.defineCommand("chorusDeliverBatch", { numberOfKeys: 0, lua: DELIVER_BATCH });
    redis.defineCommand("chorusTakeOver", { numberOfKeys: 1, lua: TAKE_OVER });
    redis.defineCommand("chorusDetach", { numberOfKeys: 1, lua: DETACH });
    redis.defineCommand("chorusSweep", { numberOfKeys: 0, lua: SWEEP });
    this.redis = redis as Scripted;
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  async create(session: NewSession): Promise<void> {
    const { keys, options } = this;
    const sid = session.sessionId;
    const multi = this.redis.multi().hset(keys.session(sid), {
      user: session.userId.toString(),
      intents: String(session.intents),
      content: session.content ? "1" : "0",
      bot: session.bot ? "1" : "0",
      shard: session.shard ? session.shard.join(",") : "",
      instance: options.instanceId,
      gen: "1",
      seq: "1",
    });
    multi
      .hset(keys.delivery(session.ready.deliveryId), { t: "READY", d: toBuffer(session.ready.data) })
      .rpush(keys.buffer(sid), `1|${session.ready.deliveryId}|1`)
      .expire(keys.delivery(session.ready.deliveryId), options.ttlSeconds);
    if (session.guildIds.length > 0) multi.sadd(keys.guilds(sid), ...session.guildIds.map(String));
    multi
      .sadd(keys.instance(options.instanceId), sid)
      .sadd(keys.instances, options.instanceId)
      .hset(keys.user(session.userId), sid, options.instanceId);
    for (const key of [keys.session(sid), keys.buffer(sid), keys.guilds(sid), keys.user(session.userId)]) multi.expire(key, options.ttlSeconds);
    await multi.exec();
  }

  async deliverBatch(batch: DeliveryBatch): Promise<SessionDeliveries[]> {
    const { sessionIds, dispatches } = batch;
    const args: (string | Buffer | number)[] = [this.options.prefix, this.options.ttlSeconds, this.options.bufferSize, sessionIds.length, dispatches.length, ...sessionIds];
    for (const d of dispatches) {
      args.push(
        d.deliveryId,
        d.event,
        toBuffer(d.data),
        d.dataWithoutContent.length > 0 ? toBuffer(d.dataWithoutContent) : "",
        d.intents,
        d.guildChange ?? "",
        d.targets ? d.targets.join(",") : "*",
        d.contentExempt ? d.contentExempt.join(",") : "",
      );
    }
    const flat = await this.redis.chorusDeliverBatch(...args);
    const results: SessionDeliveries[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      let seq = Number(flat[i]);
      const marks = String(flat[i + 2]);
      const result: SessionDeliveries = { instance: String(flat[i + 1] ?? ""), seqs: [], withContent: [] };
      for (const mark of marks) {
        const numbered = mark === "c" || mark === "n";
        result.seqs.push(numbered ? seq++ : mark === "-" ? -1 : 0);
        result.withContent.push(mark !== "n");
      }
      results.push(result);
    }
    return results;
  }

  async takeOver(sessionId: string, userId: bigint): Promise<StoredSession | undefined> {
    const r = await this.redis.chorusTakeOver(
      this.keys.session(sessionId),
      this.options.prefix,
      sessionId,
      userId.toString(),
      this.options.instanceId,
      this.options.ttlSeconds,
    );
    if (!r) return undefined;
    const [previousInstance, gen, intents, content, bot, shard, seq, guilds] = r.map(String);
    return {
      userId,
      previousInstance,
      gen: Number(gen),
      intents: Number(intents),
      content: content === "1",
      bot: bot === "1",
      shard: shard ? (shard.split(",").map(Number) as [number, number]) : undefined,
      seq: Number(seq),
      guildIds: csvIds(guilds),
    };
  }

  async readAfter(sessionId: string, afterSeq: number): Promise<BufferedDispatch[] | undefined> {
    // The buffer and the session's last seq in one transaction: a Deliver landing between two
    // separate reads would make a dispatch look lost.
    const read = await this.redis.multi().lrange(this.keys.buffer(sessionId), 0, -1).hget(this.keys.session(sessionId), "seq").exec();
    if (!read || read[0][0] || read[1][0]) return undefined;
    const entries = read[0][1] as string[];
    const lastSeq = Number((read[1][1] as string | null) ?? -1);
    const wanted = entries
      .map((entry) => {
        const [seq, deliveryId, variant] = entry.split("|");
        return { seq: Number(seq), deliveryId, withContent: variant === "1" };
      })
      .filter((e) => e.seq > afterSeq);
    if (wanted.length === 0) return lastSeq === afterSeq ? [] : undefined;
    if (wanted[0].seq !== afterSeq + 1) return undefined;
    const pipeline = this.redis.pipeline();
    for (const e of wanted) pipeline.hmgetBuffer(this.keys.delivery(e.deliveryId), "t", e.withContent ? "d" : "n");
    const payloads = (await pipeline.exec())!;
    const out: BufferedDispatch[] = [];
    for (let i = 0; i < wanted.length; i++) {
      const [err, fields] = payloads[i] as [Error | null, (Buffer | null)[]];
      if (err || !fields[0] || !fields[1]) return undefined;
      out.push({ seq: wanted[i].seq, event: fields[0].toString(), data: fields[1] });
    }
    return out;
  }

  async detach(sessionId: string, gen: number, endsAt: number): Promise<boolean> {
    const r = await this.redis.chorusDetach(this.keys.session(sessionId), this.options.prefix, sessionId, this.options.instanceId, gen, endsAt);
    return r === 1;
  }

  async sweep(now: number, adoptedEndAt: number, forcedInstance = "", limit = 200): Promise<EndedSession[]> {
    const flat = await this.redis.chorusSweep(this.options.prefix, now, limit, adoptedEndAt, forcedInstance);
    const ended: EndedSession[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      ended.push({ sessionId: String(flat[i]), userId: BigInt(String(flat[i + 1])), guildIds: csvIds(String(flat[i + 2])) });
    }
    return ended;
  }

  async refresh(sessionId: string, userId: bigint): Promise<void> {
    const { keys } = this;
    const pipeline = this.redis.pipeline();
    for (const key of [keys.session(sessionId), keys.buffer(sessionId), keys.guilds(sessionId), keys.user(userId)]) {
      pipeline.expire(key, this.options.ttlSeconds);
    }
    await pipeline.exec();
  }

  async markAlive(ttlSeconds: number): Promise<void> {
    await this.redis.multi().set(this.keys.alive(this.options.instanceId), "1", "EX", ttlSeconds).sadd(this.keys.instances, this.options.instanceId).exec();
  }

  async markGone(): Promise<void> {
    await this.redis.del(this.keys.alive(this.options.instanceId));
  }

  async poke(instanceId: string, sessionIds: readonly string[]): Promise<void> {
    await this.redis.publish(this.keys.poke(instanceId), sessionIds.join(","));
  }

  async onPoke(handler: (sessionIds: string[]) => void): Promise<void> {
    const channel = this.keys.poke(this.options.instanceId);
    this.subscriber = this.redis.duplicate();
    // The main connection reports Redis failures; this one only reconnects.
    this.subscriber.on("error", () => {});
    this.subscriber.on("message", (from: string, message: string) => {
      if (from === channel && message) handler(message.split(","));
    });
    await this.subscriber.subscribe(channel);
  }

  lookupUsers(userIds: readonly bigint[]): Promise<UserSession[]> {
    return lookupUserSessions(this.redis, userIds, this.options.namespace);
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }
}
