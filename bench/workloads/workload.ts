/** What a workload is given and what it returns. */
import type { RegistryClient } from '../client.ts';
import type { GeneratedBlob } from '../data.ts';
import type { LoadGeneratorChoice } from '../loadgen/load.ts';
import type { WorkloadSizes } from '../options.ts';
import type { RunningTarget } from '../targets.ts';

export interface Metric {
  name: string;
  unit: string;
  /**
   * Which direction is an improvement; the report turns every ratio so ≥ 1 favours the subject.
   * `none` marks context (e.g. how many pages a walk took) that gets no ratio.
   */
  better: 'higher' | 'lower' | 'none';
  value: number;
  /** A target the value must reach (`>=`) or stay under (`<=`); the report marks it met or missed. */
  goal?: Goal;
  detail?: Record<string, unknown>;
}

export interface Goal {
  op: '>=' | '<=';
  value: number;
}

export interface WorkloadContext {
  target: RunningTarget;
  sizes: WorkloadSizes;
  load: LoadGeneratorChoice;
  /** Scratch directory of the bench itself (not the server's). */
  scratchDir: string;
  /**
   * A client with up to `maxSockets` keep-alive connections, already authorized for
   * `repository` so no token request falls inside a measurement. The caller closes it.
   */
  connect(maxSockets: number, repository: string): Promise<RegistryClient>;
  /** The same generated blob for the same name on every target, so digests are computed once. */
  blob(name: string, size: number): GeneratedBlob;
  /** Things one workload leaves for a later one on the same target (e.g. the big pushed blob). */
  fixtures: Map<string, unknown>;
  /**
   * Flushes every file system (`sync`), then rests `--settle` seconds: called before each timed
   * large transfer, so it starts with the disk as idle as the first one did and the figures do
   * not depend on the order of the workloads.
   */
  settle(): Promise<void>;
  /** Throws once the workload's time budget is spent; loops call it between steps. */
  checkTime(): void;
  log(message: string): void;
}

export interface Workload {
  name: string;
  title(sizes: WorkloadSizes): string;
  /** Why this workload does not apply to a target (e.g. it has no token server); undefined when it does. */
  skip?(target: RunningTarget): Promise<string | undefined>;
  run(ctx: WorkloadContext): Promise<Metric[]>;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; stops at the first failure. */
export async function runPool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
