import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OFFLINE, PresenceCoalescer, type Presence, type PresenceTimers, type PresenceUpdate } from "./presence-coalescer.js";

const ONLINE: Presence = { status: "online", activities: "[]" };
const IDLE: Presence = { status: "idle", activities: "[]" };

/** Timers run by hand: `tick()` fires what is due, in order. */
class ManualTimers implements PresenceTimers {
  private next = 0;
  readonly due = new Map<number, () => void>();
  set(run: () => void): unknown {
    const id = this.next++;
    this.due.set(id, run);
    return id;
  }
  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }
  get pending(): number {
    return this.due.size;
  }
  tick(): void {
    const runs = [...this.due.values()];
    this.due.clear();
    for (const run of runs) run();
  }
}

/** A coalescer over a presence table the test changes, recording what it publishes. */
function setup(options: { listeners?: boolean } = {}) {
  const presences = new Map<bigint, Presence>();
  const timers = new ManualTimers();
  const published: PresenceUpdate[][] = [];
  let release: (() => void) | undefined;
  const coalescer = new PresenceCoalescer({
    windowMs: 40,
    timers,
    current: (userId) => presences.get(userId) ?? OFFLINE,
    publish: (updates) => {
      published.push(updates);
      if (options.listeners === false) return undefined;
      return new Promise<void>((resolve) => (release = resolve));
    },
  });
  const set = (userId: bigint, presence: Presence | undefined) => {
    if (presence) presences.set(userId, presence);
    else presences.delete(userId);
    coalescer.note(userId);
  };
  /** Lets the queued publication finish (and the coalescer's continuation run). */
  const finish = async () => {
    release?.();
    release = undefined;
    await new Promise((resolve) => setImmediate(resolve));
  };
  const flat = (batch: PresenceUpdate[]) => batch.map((u) => `${u.userId}:${u.presence.status}`);
  return { coalescer, timers, published, set, finish, flat };
}

describe("PresenceCoalescer", () => {
  it("a burst of changes in one window makes one publication with each changed user once, at their latest presence", () => {
    const { timers, published, set, flat } = setup();
    set(1n, ONLINE);
    set(2n, ONLINE);
    set(1n, IDLE);
    set(3n, ONLINE);
    set(3n, undefined); // online then offline: listeners saw offline, so nothing
    set(4n, ONLINE);
    set(2n, ONLINE); // noted twice, changed once
    assert.equal(timers.pending, 1, "one timer for the whole burst");
    assert.equal(published.length, 0, "nothing before the window ends");
    timers.tick();
    // In the order of each user's last change.
    assert.deepEqual(published.map(flat), [["1:idle", "4:online", "2:online"]]);
  });

  it("publishes nothing when a user ends the window as listeners last saw them", async () => {
    const { timers, published, set, finish, flat } = setup();
    set(1n, ONLINE);
    timers.tick();
    await finish();
    set(1n, undefined);
    set(1n, ONLINE); // offline and back within the window
    set(2n, IDLE);
    set(2n, IDLE);
    timers.tick();
    assert.deepEqual(published.map(flat), [["1:online"], ["2:idle"]]);
    await finish();
    // Only what differs from the published presence goes out: here, new activities.
    set(2n, { status: "idle", activities: '[{"name":"chess"}]' });
    set(1n, ONLINE);
    timers.tick();
    assert.deepEqual(published.at(-1)!.map((u) => [u.userId, u.presence.activities]), [[2n, '[{"name":"chess"}]']]);
  });

  it("changes made while the previous publication is awaited wait for it, then go out together", async () => {
    const { timers, published, set, finish, flat } = setup();
    set(1n, ONLINE);
    timers.tick();
    assert.equal(published.length, 1);
    set(2n, ONLINE);
    set(3n, ONLINE);
    set(2n, IDLE);
    assert.equal(timers.pending, 0, "no timer while the previous publication is queued");
    timers.tick();
    assert.equal(published.length, 1);
    await finish();
    assert.equal(timers.pending, 1, "the wait ends: one window for what gathered");
    timers.tick();
    assert.deepEqual(published.map(flat), [["1:online"], ["3:online", "2:idle"]]);
    await finish();
    assert.equal(timers.pending, 0, "nothing left: no timer");
  });

  it("with nobody to tell it queues nothing and does not wait, but remembers what was published", async () => {
    const { coalescer, timers, published, set, flat } = setup({ listeners: false });
    set(1n, ONLINE);
    timers.tick();
    set(1n, ONLINE);
    timers.tick();
    set(1n, undefined);
    timers.tick();
    assert.deepEqual(published.map(flat), [["1:online"], ["1:offline"]]);
    assert.equal(coalescer.pendingCount, 0);
  });

  it("forget drops a member without publishing; close stops the timer and later notes", async () => {
    const { coalescer, timers, published, set } = setup();
    set(1n, ONLINE);
    coalescer.forget(1n);
    timers.tick();
    assert.equal(published.length, 0, "a member who left is not published");
    set(2n, ONLINE);
    coalescer.close();
    assert.equal(timers.pending, 0);
    set(3n, ONLINE);
    assert.equal(timers.pending, 0);
    assert.equal(published.length, 0);
  });
});
