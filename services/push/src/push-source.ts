/**
 * The source stage of the push pipeline (GenStage's producer with a bounded buffer): push
 * requests are offered to it, sinks subscribe to one lane (a provider) and ask for as many
 * requests as they can take. A request goes straight to a sink that has demand; otherwise it
 * waits in the buffer. The buffer holds at most `capacity` requests over all lanes and
 * priorities: when it is full, the oldest request of the lowest priority present is dropped
 * (the incoming one, if it is less important than everything buffered), so the most
 * important priority is shed only when the buffer holds nothing else.
 */

/** What the source needs to know of a request. Priority 0 is the most important. */
export interface SourceItem {
  readonly lane: string;
  readonly priority: number;
}

export interface PushSourceOptions<T extends SourceItem> {
  /** Requests the buffer holds at most, over every lane and priority. */
  capacity: number;
  /** Number of priority levels: 0 (most important) .. priorities - 1. */
  priorities: number;
  /** Called for every request dropped because the buffer was full. */
  onShed?: (item: T) => void;
}

/** A sink's subscription to one lane: demand is what it asked for and has not been given yet. */
export interface Subscription {
  /** Asks for `n` more requests; they come through the subscriber's callback, maybe at once. */
  ask(n: number): void;
  /** Withdraws the outstanding demand (the sink pauses); returns how much there was. */
  retract(): number;
  readonly demand: number;
  cancel(): void;
}

/** A FIFO queue with O(1) push and shift (an array with a moving head, compacted now and then). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

interface Entry<T> {
  item: T;
  /** Arrival order over the whole source, to find the oldest of a priority across lanes. */
  serial: number;
}

class Subscriber<T extends SourceItem> implements Subscription {
  demand = 0;
  active = true;
  constructor(
    private readonly source: PushSource<T>,
    readonly lane: string,
    readonly deliver: (item: T) => void,
  ) {}
  ask(n: number): void {
    if (!this.active || n <= 0) return;
    this.demand += n;
    this.source.drain(this.lane);
  }
  retract(): number {
    const had = this.demand;
    this.demand = 0;
    return had;
  }
  cancel(): void {
    this.active = false;
    this.demand = 0;
    this.source.unsubscribe(this);
  }
}

export class PushSource<T extends SourceItem> {
  private readonly capacity: number;
  private readonly priorities: number;
  /** lane → priority → queue. */
  private readonly lanes = new Map<string, Fifo<Entry<T>>[]>();
  private readonly subscribers = new Map<string, Subscriber<T>[]>();
  /** Round-robin position per lane among its subscribers. */
  private readonly turn = new Map<string, number>();
  private readonly countByPriority: number[];
  private size = 0;
  private serial = 0;
  private readonly shed: number[];
  private readonly onShed?: (item: T) => void;
  /** Lanes being drained right now (a sink asking again from its callback is served by the running loop). */
  private readonly draining = new Set<string>();

  constructor(options: PushSourceOptions<T>) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError("capacity must be a positive integer");
    if (!Number.isInteger(options.priorities) || options.priorities < 1) throw new RangeError("priorities must be a positive integer");
    this.capacity = options.capacity;
    this.priorities = options.priorities;
    this.countByPriority = new Array<number>(options.priorities).fill(0);
    this.shed = new Array<number>(options.priorities).fill(0);
    this.onShed = options.onShed;
  }

  /** Requests waiting in the buffer. */
  get depth(): number {
    return this.size;
  }

  get bufferCapacity(): number {
    return this.capacity;
  }

  /** Requests waiting, by priority. */
  depthByPriority(): number[] {
    return [...this.countByPriority];
  }

  /** Requests dropped so far because the buffer was full, by priority. */
  shedByPriority(): number[] {
    return [...this.shed];
  }

  subscribe(lane: string, deliver: (item: T) => void): Subscription {
    const subscriber = new Subscriber<T>(this, lane, deliver);
    const list = this.subscribers.get(lane) ?? [];
    list.push(subscriber);
    this.subscribers.set(lane, list);
    return subscriber;
  }

  /** @internal */
  unsubscribe(subscriber: Subscriber<T>): void {
    const list = this.subscribers.get(subscriber.lane);
    if (!list) return;
    const i = list.indexOf(subscriber);
    if (i >= 0) list.splice(i, 1);
  }

  /**
   * Takes a request: hands it to a subscriber of its lane that has demand, or buffers it.
   * Returns false when the request itself was shed (the buffer was full of more important
   * ones); true when it was handed on or buffered (possibly at the expense of another).
   */
  offer(item: T): boolean {
    const priority = item.priority;
    if (!Number.isInteger(priority) || priority < 0 || priority >= this.priorities) {
      throw new RangeError(`priority ${priority} is outside 0..${this.priorities - 1}`);
    }
    // Nothing waits in a lane whose subscribers have demand, so hand it on at once.
    const taker = this.nextWithDemand(item.lane);
    if (taker) {
      taker.demand--;
      taker.deliver(item);
      return true;
    }
    if (this.size >= this.capacity) {
      const worst = this.lowestPriorityPresent();
      if (priority > worst) {
        this.drop(item);
        return false;
      }
      this.evictOldest(worst);
    }
    this.queue(item.lane, priority).push({ item, serial: this.serial++ });
    this.countByPriority[priority]++;
    this.size++;
    return true;
  }

  /** Hands buffered requests of a lane to its subscribers' demand, most important first. @internal */
  drain(lane: string): void {
    // A sink may ask again from inside its callback: the outer loop serves that demand.
    if (this.draining.has(lane)) return;
    this.draining.add(lane);
    try {
      const queues = this.lanes.get(lane);
      if (!queues) return;
      for (;;) {
        const taker = this.nextWithDemand(lane);
        if (!taker) return;
        const entry = this.takeFrom(queues);
        if (!entry) return;
        taker.demand--;
        taker.deliver(entry.item);
      }
    } finally {
      this.draining.delete(lane);
    }
  }

  private takeFrom(queues: Fifo<Entry<T>>[]): Entry<T> | undefined {
    for (let p = 0; p < queues.length; p++) {
      const entry = queues[p].shift();
      if (entry) {
        this.countByPriority[p]--;
        this.size--;
        return entry;
      }
    }
    return undefined;
  }

  private nextWithDemand(lane: string): Subscriber<T> | undefined {
    const list = this.subscribers.get(lane);
    if (!list || list.length === 0) return undefined;
    const start = this.turn.get(lane) ?? 0;
    for (let i = 0; i < list.length; i++) {
      const s = list[(start + i) % list.length];
      if (s.demand > 0) {
        this.turn.set(lane, (start + i + 1) % list.length);
        return s;
      }
    }
    return undefined;
  }

  private queue(lane: string, priority: number): Fifo<Entry<T>> {
    let queues = this.lanes.get(lane);
    if (!queues) {
      queues = Array.from({ length: this.priorities }, () => new Fifo<Entry<T>>());
      this.lanes.set(lane, queues);
    }
    return queues[priority];
  }

  private lowestPriorityPresent(): number {
    for (let p = this.priorities - 1; p >= 0; p--) if (this.countByPriority[p] > 0) return p;
    return -1;
  }

  /** Drops the oldest buffered request of a priority, whatever its lane. */
  private evictOldest(priority: number): void {
    let oldest: Fifo<Entry<T>> | undefined;
    let oldestSerial = Infinity;
    for (const queues of this.lanes.values()) {
      const head = queues[priority].peek();
      if (head && head.serial < oldestSerial) {
        oldestSerial = head.serial;
        oldest = queues[priority];
      }
    }
    const entry = oldest?.shift();
    if (!entry) return;
    this.countByPriority[priority]--;
    this.size--;
    this.drop(entry.item);
  }

  private drop(item: T): void {
    this.shed[item.priority]++;
    this.onShed?.(item);
  }
}
