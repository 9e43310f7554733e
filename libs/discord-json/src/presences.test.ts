import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { discordPresence, guildPresences, OFFLINE, presenceOf, type Presence } from "./presences.js";

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const session = (status: string, activities: unknown[] = []) => ({ status, activities: encode(activities) });
const ONLINE: Presence = { status: "online", activities: "[]" };

describe("presenceOf", () => {
  it("is the newest session's presence; invisible and no session show offline; an empty status is online", () => {
    assert.deepEqual(presenceOf([]), OFFLINE);
    assert.deepEqual(presenceOf([session("")]), ONLINE);
    assert.deepEqual(presenceOf([session("dnd"), session("idle", [{ name: "chess" }])]), { status: "idle", activities: '[{"name":"chess"}]' });
    assert.deepEqual(presenceOf([session("idle", [{ name: "chess" }])].concat([session("invisible", [{ name: "x" }])])), OFFLINE);
    assert.deepEqual(presenceOf([session("invisible"), session("online")]), ONLINE);
  });
});

describe("guildPresences", () => {
  it("one presence per user from ListOnline's sessions (the last of each user's wins), invisible users left out", () => {
    const of = (userId: bigint, status: string, activities: unknown[] = []) => ({ userId, ...session(status, activities) });
    const presences = guildPresences([of(1n, "online"), of(2n, "invisible"), of(1n, "dnd", [{ name: "go", type: 0 }]), of(3n, ""), of(4n, "online"), of(4n, "invisible")]);
    assert.deepEqual(presences, [
      { userId: 1n, presence: { status: "dnd", activities: '[{"name":"go","type":0}]' } },
      { userId: 3n, presence: ONLINE },
    ]);
    assert.deepEqual(guildPresences([]), []);
  });
});

describe("discordPresence", () => {
  it("renders Discord's presence update: partial user, guild, status, parsed activities, client_status", () => {
    assert.deepEqual(discordPresence(7n, 9n, { status: "idle", activities: '[{"name":"chess","type":0}]' }), {
      user: { id: "7" },
      guild_id: "9",
      status: "idle",
      activities: [{ name: "chess", type: 0 }],
      client_status: { desktop: "idle" },
    });
    // Offline: no activities, no platform.
    assert.deepEqual(discordPresence(7n, 9n, OFFLINE), { user: { id: "7" }, guild_id: "9", status: "offline", activities: [], client_status: {} });
  });
});
