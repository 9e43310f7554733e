import type { Logger } from "@chorus/mesh";
import type { GuildPresence } from "./guild-presence.js";
import type { SessionStore } from "./session-store.js";

/** An instance's alive mark lasts this long, refreshed three times within it. */
const ALIVE_TTL_SECONDS = 10;
const SWEEP_EVERY_MS = 1000;

/**
 * Ends sessions nobody resumed: every node sweeps the store each second, and whichever node
 * claims an ended session marks it offline on its guilds' owners. Sessions of a node that
 * died (its alive mark expired) are detached by the sweep, so they too end after the resume
 * window if no client resumes them.
 */
export class SessionLifecycle {
  private timers: NodeJS.Timeout[] = [];
  private sweeping?: Promise<void>;
  private again = false;

  constructor(
    private readonly store: SessionStore,
    private readonly presence: GuildPresence,
    private readonly resumeWindowMs: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    // Sessions a previous process with this instance id held are not held by this one.
    await this.runSweep(this.store.instanceId);
    await this.store.markAlive(ALIVE_TTL_SECONDS);
    this.timers.push(
      setInterval(() => void this.store.markAlive(ALIVE_TTL_SECONDS).catch((err) => this.logger.warn({ err }, "could not refresh the alive mark")), (ALIVE_TTL_SECONDS * 1000) / 3),
      setInterval(() => this.sweepSoon(), SWEEP_EVERY_MS),
    );
  }

  /** Sweeps now (or right after the sweep under way). */
  sweepSoon(): void {
    if (this.sweeping) {
      this.again = true;
      return;
    }
    this.sweeping = this.runSweep().finally(() => {
      this.sweeping = undefined;
      if (this.again) {
        this.again = false;
        this.sweepSoon();
      }
    });
  }

  private async runSweep(forcedInstance = ""): Promise<void> {
    try {
      const now = Date.now();
      const ended = await this.store.sweep(now, now + this.resumeWindowMs, forcedInstance);
      await Promise.all(ended.flatMap((s) => s.guildIds.map((g) => this.presence.markOffline(g, s.userId, s.sessionId))));
      if (ended.length > 0) this.logger.debug({ ended: ended.length }, "sessions ended");
    } catch (err) {
      this.logger.warn({ err }, "session sweep failed");
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.sweeping;
    await this.store.markGone().catch(() => {});
  }
}
