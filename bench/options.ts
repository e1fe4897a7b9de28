/**
 * The benchmark's settings: workload sizes (a full profile and a `--quick` profile about 20x
 * smaller), which targets to measure and where to put their data.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export type LoadGenerator = 'auto' | 'wrk' | 'node';

/** Every size and count a workload uses; each one can be overridden on the command line. */
export interface WorkloadSizes {
  /** Size of the blob pushed three ways and pulled back (workloads push and pull). */
  bigBlobBytes: number;
  /** PATCH size of the chunked push. */
  chunkBytes: number;
  parallelClients: number;
  parallelBlobBytes: number;
  /** How many times each parallel client pulls its blob. */
  parallelRounds: number;
  manifestSeconds: number;
  /** Unmeasured load before each manifest measurement, so both servers are warm. */
  manifestWarmupSeconds: number;
  manifestConnections: number;
  smallImages: number;
  smallPushers: number;
  smallLayerBytes: number;
  /**
   * Unmeasured pushes (at most `smallImages`) before each small-image measurement, so that the
   * measured images meet a warm client and a warm server, as the manifest workload's do.
   */
  smallWarmupSeconds: number;
  tagCounts: number[];
  tagPageSize: number;
  tagWalks: number;
  tagPutConcurrency: number;
  /** Measured seconds of each authentication mode and token grant (after the manifest warm-up). */
  authSeconds: number;
  /** Keep-alive connections asking the token server at once. */
  tokenConnections: number;
  /** Users who each log in once with their password (an argon2 verification each), per measurement. */
  firstLogins: number;
  /** Of those, how many log in at the same time in the concurrent measurement. */
  firstLoginConcurrency: number;
  /** Layers of the image the `import` workload copies, and the size of each. */
  importLayers: number;
  importLayerBytes: number;
  /** Images (two blobs each, every other one deleted) the `gc` workload collects over. */
  gcManifests: number;
  /** Pushers pushing new images while the collection runs. */
  gcPushers: number;
  /** Tags (one small image each) the `purge` workload deletes. */
  purgeTags: number;
  /** Runs of each measured kind in the `tasks` workload (queue → first step, 3-step run end to end). */
  taskSamples: number;
  /** Runs the `tasks` workload queues at once for the server's workers. */
  taskRuns: number;
  /** Tasks building FROM one base image, all triggered by one push of it (`triggers` workload). */
  triggerTasks: number;
}

export interface BenchOptions {
  sizes: WorkloadSizes;
  quick: boolean;
  /** Workload names to run, in their fixed order. */
  workloads: string[];
  targets: TargetSpec[];
  loadGenerator: LoadGenerator;
  loadThreads: number;
  workDir: string;
  projectRoot: string;
  jsonPath: string | undefined;
  sampleIntervalMs: number;
  /** Upper bound on one workload on one target; it is abandoned (and reported as failed) after it. */
  workloadTimeoutMs: number;
  startTimeoutMs: number;
  /** Rest before each timed large transfer, after a `sync` (see `WorkloadContext.settle`). */
  settleSeconds: number;
}

/** How to reach (and, if the bench manages it, start) one registry under test. */
export type TargetSpec =
  | { name: string; kind: 'berth'; command: string; credentials?: Credentials }
  | { name: string; kind: 'distribution' }
  | { name: string; kind: 'command'; command: string; credentials?: Credentials }
  | { name: string; kind: 'url'; url: string; pid?: number; credentials?: Credentials };

export interface Credentials {
  username: string;
  password: string;
}

export const fullSizes: WorkloadSizes = {
  bigBlobBytes: 1 * GiB,
  chunkBytes: 16 * MiB,
  parallelClients: 32,
  parallelBlobBytes: 64 * MiB,
  parallelRounds: 2,
  manifestSeconds: 10,
  manifestWarmupSeconds: 1,
  manifestConnections: 64,
  smallImages: 1000,
  smallPushers: 8,
  smallLayerBytes: 1 * KiB,
  smallWarmupSeconds: 3,
  tagCounts: [1000, 10000],
  tagPageSize: 100,
  tagWalks: 5,
  tagPutConcurrency: 16,
  authSeconds: 10,
  tokenConnections: 16,
  firstLogins: 32,
  firstLoginConcurrency: 8,
  importLayers: 100,
  importLayerBytes: 2 * MiB,
  gcManifests: 10_000,
  gcPushers: 4,
  purgeTags: 10_000,
  taskSamples: 5,
  taskRuns: 10,
  triggerTasks: 200,
};

/** About 20x less work than `fullSizes`, keeping concurrency levels and request counts per page. */
export const quickSizes: WorkloadSizes = {
  bigBlobBytes: 50 * MiB,
  chunkBytes: 1 * MiB,
  parallelClients: 32,
  parallelBlobBytes: 3 * MiB,
  parallelRounds: 2,
  manifestSeconds: 1,
  manifestWarmupSeconds: 0.5,
  manifestConnections: 64,
  smallImages: 50,
  smallPushers: 8,
  smallLayerBytes: 1 * KiB,
  smallWarmupSeconds: 0.5,
  tagCounts: [50, 500],
  tagPageSize: 100,
  tagWalks: 3,
  tagPutConcurrency: 16,
  authSeconds: 1,
  tokenConnections: 16,
  firstLogins: 8,
  firstLoginConcurrency: 8,
  importLayers: 100,
  importLayerBytes: 128 * KiB,
  gcManifests: 500,
  gcPushers: 4,
  purgeTags: 500,
  taskSamples: 2,
  taskRuns: 10,
  triggerTasks: 20,
};

const sizeUnits: Record<string, number> = { '': 1, b: 1, k: KiB, kib: KiB, m: MiB, mib: MiB, g: GiB, gib: GiB };

/** Parses a byte size such as `1GiB`, `16MiB`, `512k` or `4096`. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? sizeUnits[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new Error(`invalid size "${text}" (use e.g. 1GiB, 16MiB, 512KiB)`);
  const bytes = Math.round(Number(match[1]) * unit);
  if (bytes <= 0) throw new Error(`size must be positive: "${text}"`);
  return bytes;
}

export function parsePositiveInt(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`expected a positive integer, got "${text}"`);
  return value;
}

export function parseNonNegativeInt(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`expected a whole number of 0 or more, got "${text}"`);
  return value;
}

export function parsePositiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`expected a positive number, got "${text}"`);
  return value;
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${+(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}
