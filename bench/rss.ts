/**
 * Memory of a server under test, sampled from /proc: the kernel's own peak (VmHWM) of the main
 * process, and the sampled sum of VmRSS over the process and its descendants (for servers that
 * fork helpers).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface RssSummary {
  /** Kernel-tracked peak resident set of the main process (VmHWM), at the last sample. */
  hwmMiB: number;
  /** Highest sampled VmRSS sum of the process tree. */
  peakTreeRssMiB: number;
  samples: number;
}

export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private hwmKiB = 0;
  private peakTreeKiB = 0;
  private windowPeakKiB = 0;
  private samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Takes a last sample and stops; call before the process is asked to exit. */
  stop(): RssSummary {
    this.sample();
    clearInterval(this.timer);
    this.timer = undefined;
    return this.summary();
  }

  summary(): RssSummary {
    return { hwmMiB: toMiB(this.hwmKiB), peakTreeRssMiB: toMiB(this.peakTreeKiB), samples: this.samples };
  }

  /** Highest tree RSS since the previous call (a per-workload peak), in MiB. */
  takeWindowPeakMiB(): number {
    this.sample();
    const peak = this.windowPeakKiB;
    this.windowPeakKiB = 0;
    return toMiB(peak);
  }

  private sample(): void {
    const main = readStatus(this.pid);
    if (!main) return;
    this.samples++;
    this.hwmKiB = Math.max(this.hwmKiB, main.hwmKiB);
    let total = 0;
    for (const pid of processTree(this.pid)) total += readStatus(pid)?.rssKiB ?? 0;
    this.peakTreeKiB = Math.max(this.peakTreeKiB, total);
    this.windowPeakKiB = Math.max(this.windowPeakKiB, total);
  }
}

function toMiB(kib: number): number {
  return Math.round((kib / 1024) * 10) / 10;
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
