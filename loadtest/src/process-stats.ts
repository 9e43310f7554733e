import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, almost always 100). */
const CLOCK_TICKS = (() => {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  /** User + system CPU time since the process started, in seconds. */
  cpuSeconds: number;
  /** Resident set size now, in MiB. */
  rssMb: number;
  /** Peak resident set size (VmHWM) since start or the last reset, in MiB. */
  hwmMb: number;
}

/** CPU time and memory of a process from /proc; undefined when it is gone (or no procfs). */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]); // field 14 of stat(5)
    const stime = Number(fields[12]); // field 15
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { cpuSeconds: (utime + stime) / CLOCK_TICKS, rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

export interface ProcessUsage {
  pid: number;
  /** CPU seconds (user + system) spent during the window. */
  cpuSeconds: number;
  /** cpuSeconds / wall seconds × 100: 100 % is one core busy. */
  cpuPercent: number;
  /** Highest resident set size seen during the window, in MiB. */
  peakRssMb: number;
}

/**
 * CPU time and peak RSS of one process over a window (start() … stop()). The peak is the
 * kernel's VmHWM when it could be reset at start (write "5" to /proc/<pid>/clear_refs, allowed
 * for our own children), combined with RSS sampled every `sampleMs`.
 */
export class ProcessMonitor {
  private startCpu = 0;
  private startWall = 0;
  private peakRss = 0;
  private hwmReset = false;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    private readonly options: { resetPeak?: boolean; sampleMs?: number } = {},
  ) {}

  start(): void {
    const first = readProc(this.pid);
    this.startCpu = first?.cpuSeconds ?? 0;
    this.startWall = performance.now();
    this.peakRss = first?.rssMb ?? 0;
    this.hwmReset = false;
    if (this.options.resetPeak) {
      try {
        writeFileSync(`/proc/${this.pid}/clear_refs`, "5");
        this.hwmReset = true;
      } catch {
        /* not permitted: rely on sampling */
      }
    }
    this.timer = setInterval(() => this.sample(), this.options.sampleMs ?? 200);
    this.timer.unref();
  }

  private sample(): ProcSample | undefined {
    const now = readProc(this.pid);
    if (now) this.peakRss = Math.max(this.peakRss, now.rssMb, this.hwmReset ? now.hwmMb : 0);
    return now;
  }

  stop(): ProcessUsage {
    clearInterval(this.timer);
    const end = this.sample();
    const wallSeconds = (performance.now() - this.startWall) / 1000;
    const cpuSeconds = end ? end.cpuSeconds - this.startCpu : 0;
    return {
      pid: this.pid,
      cpuSeconds: round(cpuSeconds, 2),
      cpuPercent: round(wallSeconds > 0 ? (cpuSeconds / wallSeconds) * 100 : 0, 1),
      peakRssMb: round(this.peakRss, 1),
    };
  }
}

/** CPU seconds of this very process over a window. */
export class SelfCpu {
  private start = process.cpuUsage();
  private startWall = performance.now();

  reset(): void {
    this.start = process.cpuUsage();
    this.startWall = performance.now();
  }

  read(): { cpuSeconds: number; cpuPercent: number } {
    const d = process.cpuUsage(this.start);
    const cpuSeconds = (d.user + d.system) / 1e6;
    const wall = (performance.now() - this.startWall) / 1000;
    return { cpuSeconds: round(cpuSeconds, 2), cpuPercent: round(wall > 0 ? (cpuSeconds / wall) * 100 : 0, 1) };
  }
}

/**
 * CPU seconds of this process's main thread alone (not its worker threads), from
 * /proc/self/task/<pid>/stat (Linux, 100 ticks a second); undefined elsewhere.
 */
export function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Busy and total CPU time of the whole machine so far (all cores), from /proc/stat, in seconds. */
export function readSystemCpu(): { busySeconds: number; totalSeconds: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = user + nice + system + idle + iowait + irq + softirq + steal;
    return { busySeconds: (total - idle - iowait) / CLOCK_TICKS, totalSeconds: total / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/** CPU time the whole machine spent over a window: what every process used, ours and others'. */
export class SystemMonitor {
  private start?: { busySeconds: number; totalSeconds: number };
  private startWall = 0;

  begin(): void {
    this.start = readSystemCpu();
    this.startWall = performance.now();
  }

  end(): { busyCpuSeconds: number; busyCores: number } | undefined {
    const end = readSystemCpu();
    if (!this.start || !end) return undefined;
    const busy = end.busySeconds - this.start.busySeconds;
    const wall = (performance.now() - this.startWall) / 1000;
    return { busyCpuSeconds: round(busy, 2), busyCores: round(wall > 0 ? busy / wall : 0, 2) };
  }
}

/** Cores busy on the machine over the next `ms` (before a run: is someone else loading it?). */
export async function machineBusyCores(ms = 1000): Promise<number | undefined> {
  const monitor = new SystemMonitor();
  monitor.begin();
  await new Promise((r) => setTimeout(r, ms));
  return monitor.end()?.busyCores;
}
