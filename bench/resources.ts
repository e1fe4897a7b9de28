/**
 * Memory and CPU of a server under test, sampled from /proc: the kernel's own memory peak
 * (VmHWM) of the main process, the sampled sum of VmRSS over the process and its descendants
 * (for servers that fork helpers), and CPU seconds used, so a reader can tell whether the server
 * was saturated and what each workload cost it.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ResourceSummary {
  /** Tree RSS at the first sample, i.e. idle right after start-up. */
  startRssMiB: number;
  /** Kernel-tracked peak resident set of the main process (VmHWM), at the last sample. */
  hwmMiB: number;
  /** Highest sampled VmRSS sum of the process tree. */
  peakTreeRssMiB: number;
  /** CPU (user + system) of the process tree since sampling started. */
  cpuSeconds: number;
  samples: number;
}

export interface ResourceWindow {
  peakRssMiB: number;
  cpuSeconds: number;
}

const clockTicksPerSecond = 100;

export class ResourceSampler {
  private timer: NodeJS.Timeout | undefined;
  private startKiB: number | undefined;
  private hwmKiB = 0;
  private peakTreeKiB = 0;
  private windowPeakKiB = 0;
  private samples = 0;
  private readonly cpuAtStart: number;
  private cpuAtWindow: number;
  private lastCpu: number;

  constructor(
    private readonly pid: number,
    private readonly intervalMs: number,
  ) {
    this.cpuAtStart = this.cpuSecondsNow();
    this.cpuAtWindow = this.cpuAtStart;
    this.lastCpu = this.cpuAtStart;
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Takes a last sample and stops; call before the process is asked to exit. */
  stop(): ResourceSummary {
    this.sample();
    clearInterval(this.timer);
    this.timer = undefined;
    return {
      startRssMiB: toMiB(this.startKiB ?? 0),
      hwmMiB: toMiB(this.hwmKiB),
      peakTreeRssMiB: toMiB(this.peakTreeKiB),
      cpuSeconds: round(this.lastCpu - this.cpuAtStart),
      samples: this.samples,
    };
  }

  /** CPU seconds the process tree has used so far; differences time a stretch of one workload. */
  cpuSeconds(): number {
    return this.cpuSecondsNow();
  }

  /** Peak tree RSS and CPU used since the previous call (one workload's share). */
  takeWindow(): ResourceWindow {
    this.sample();
    const window = { peakRssMiB: toMiB(this.windowPeakKiB), cpuSeconds: round(this.lastCpu - this.cpuAtWindow) };
    this.windowPeakKiB = 0;
    this.cpuAtWindow = this.lastCpu;
    return window;
  }

  private sample(): void {
    const main = readStatus(this.pid);
    if (!main) return;
    this.samples++;
    this.hwmKiB = Math.max(this.hwmKiB, main.hwmKiB);
    let total = 0;
    for (const pid of processTree(this.pid)) total += readStatus(pid)?.rssKiB ?? 0;
    this.startKiB ??= total;
    this.peakTreeKiB = Math.max(this.peakTreeKiB, total);
    this.windowPeakKiB = Math.max(this.windowPeakKiB, total);
    this.lastCpu = Math.max(this.lastCpu, this.cpuSecondsNow());
  }

  /** utime + stime of the live tree, plus what the main process's reaped children used. */
  private cpuSecondsNow(): number {
    let ticks = 0;
    for (const pid of processTree(this.pid)) {
      const fields = readStatFields(pid);
      if (!fields) continue;
      // Counted from the state field (stat field 3): utime, stime, cutime, cstime are 14–17.
      ticks += fields[11]! + fields[12]! + (pid === this.pid ? fields[13]! + fields[14]! : 0);
    }
    return ticks / clockTicksPerSecond;
  }
}

/** Busy CPU seconds of the whole machine (all CPUs, everything but idle and iowait), from /proc/stat. */
export function machineBusySeconds(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const fields = /^cpu\s+(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number);
  if (!fields || fields.length < 5) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = fields.slice(0, 8).reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0);
  return busy / clockTicksPerSecond;
}

/**
 * CPU seconds of this process's children that have exited and been waited for (cutime + cstime
 * of /proc/self/stat): around a load run, what its wrk or Node load processes used.
 */
export function reapedChildrenCpuSeconds(): number | undefined {
  const fields = readStatFields(process.pid);
  return fields ? (fields[13]! + fields[14]!) / clockTicksPerSecond : undefined;
}

function toMiB(kib: number): number {
  return round(kib / 1024);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function readStatus(pid: number): { rssKiB: number; hwmKiB: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/** Fields of /proc/<pid>/stat from the state (field 3) on, as numbers. */
function readStatFields(pid: number): number[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command may contain spaces and parentheses; it ends at the last ')'.
  return text
    .slice(text.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
}

/** `pid` and all its descendants, from /proc/<pid>/task/<tid>/children (bounded in size). */
function processTree(pid: number): number[] {
  const seen = new Set<number>([pid]);
  const queue = [pid];
  while (queue.length > 0 && seen.size < 1000) {
    const current = queue.shift()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${current}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(' ')) {
        const childPid = Number(child);
        if (child.trim() !== '' && !seen.has(childPid)) {
          seen.add(childPid);
          queue.push(childPid);
        }
      }
    }
  }
  return [...seen];
}
