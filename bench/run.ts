/**
 * `npm run bench`: drives registries through the OCI Distribution API, one target after the
 * other (never both at once: the machine's cores belong to the server under test), and prints
 * per-workload tables comparing the first target (Berth) with the second (Distribution).
 */
import { Command, Option } from 'commander';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegistryClient } from './client.ts';
import { GeneratedBlob } from './data.ts';
import { chooseLoadGenerator, type LoadGeneratorChoice } from './loadgen/load.ts';
import {
  fullSizes,
  parsePositiveInt,
  parsePositiveNumber,
  parseSize,
  quickSizes,
  type BenchOptions,
  type Credentials,
  type LoadGenerator,
  type TargetSpec,
  type WorkloadSizes,
} from './options.ts';
import { describeMachine, formatHeader, formatTables, writeJson, type BenchResults, type TargetResult, type WorkloadResult } from './report.ts';
import { defaultBerthCommand, distributionInstalled, startTarget, type RunningTarget } from './targets.ts';
import { workloads } from './workloads/index.ts';
import type { Workload, WorkloadContext } from './workloads/workload.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** CLI flag → size field, with the parser of its value. */
const sizeFlags: { flag: string; field: keyof WorkloadSizes; parse: (text: string) => number | number[]; help: string }[] = [
  { flag: '--big-blob <size>', field: 'bigBlobBytes', parse: parseSize, help: 'blob pushed three ways and pulled (1GiB)' },
  { flag: '--chunk <size>', field: 'chunkBytes', parse: parseSize, help: 'PATCH size of the chunked push (16MiB)' },
  { flag: '--parallel-clients <n>', field: 'parallelClients', parse: parsePositiveInt, help: 'concurrent pulling clients (32)' },
  { flag: '--parallel-blob <size>', field: 'parallelBlobBytes', parse: parseSize, help: 'blob each concurrent client pulls (64MiB)' },
  { flag: '--parallel-rounds <n>', field: 'parallelRounds', parse: parsePositiveInt, help: 'pulls per concurrent client (2)' },
  { flag: '--manifest-seconds <s>', field: 'manifestSeconds', parse: parsePositiveNumber, help: 'measured seconds per manifest method (10)' },
  { flag: '--manifest-warmup <s>', field: 'manifestWarmupSeconds', parse: parsePositiveNumber, help: 'unmeasured warm-up seconds (1)' },
  { flag: '--manifest-connections <n>', field: 'manifestConnections', parse: parsePositiveInt, help: 'keep-alive connections (64)' },
  { flag: '--small-images <n>', field: 'smallImages', parse: parsePositiveInt, help: 'small images per push mode (1000)' },
  { flag: '--small-pushers <n>', field: 'smallPushers', parse: parsePositiveInt, help: 'concurrent pushers (8)' },
  { flag: '--small-layer <size>', field: 'smallLayerBytes', parse: parseSize, help: 'layer size of a small image (1KiB)' },
  { flag: '--tag-counts <list>', field: 'tagCounts', parse: parseIntList, help: 'repositories to walk, by tag count (1000,10000)' },
  { flag: '--tag-page <n>', field: 'tagPageSize', parse: parsePositiveInt, help: 'n= of each tags/list page (100)' },
  { flag: '--tag-walks <n>', field: 'tagWalks', parse: parsePositiveInt, help: 'measured walks; the median is reported (5)' },
  { flag: '--tag-put-concurrency <n>', field: 'tagPutConcurrency', parse: parsePositiveInt, help: 'concurrent tag PUTs while creating tags (16)' },
];

function parseIntList(text: string): number[] {
  return text.split(',').map((part) => parsePositiveInt(part.trim()));
}

function parseNameList(text: string): string[] {
  const known = workloads.map((w) => w.name);
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) if (!known.includes(name)) throw new Error(`unknown workload "${name}" (known: ${known.join(', ')})`);
  return names;
}

/** `name=berth`, `name=distribution`, `name=cmd:<command>` or `name=<url>` (user:password@ allowed). */
function parseTarget(text: string, berthCommand: string): TargetSpec {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--target wants name=spec, got "${text}"`);
  const name = text.slice(0, eq);
  const spec = text.slice(eq + 1);
  if (spec === 'berth') return { name, kind: 'berth', command: berthCommand };
  if (spec === 'distribution') return { name, kind: 'distribution' };
  if (spec.startsWith('cmd:')) return { name, kind: 'command', command: spec.slice(4) };
  if (/^https?:\/\//.test(spec)) return urlTarget(name, spec, undefined, undefined);
  throw new Error(`--target ${name}: unknown spec "${spec}" (berth, distribution, cmd:<command> or http(s)://url)`);
}

function urlTarget(name: string, text: string, pid: number | undefined, credentials: Credentials | undefined): TargetSpec {
  const url = new URL(text);
  const fromUrl = url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
  url.username = '';
  url.password = '';
  return { name, kind: 'url', url: url.toString(), pid, credentials: credentials ?? fromUrl };
}

interface CliValues {
  quick?: boolean;
  only?: string[];
  skip?: string[];
  json?: string;
  berthUrl?: string;
  berthPid?: number;
  berthCmd: string;
  berthUser?: string;
  berthPassword?: string;
  distribution: boolean;
  target: string[];
  loadgen: LoadGenerator;
  loadgenThreads?: number;
  workDir: string;
  sampleIntervalMs: number;
  workloadTimeout: number;
  [size: string]: unknown;
}

function buildProgram(): Command {
  const program = new Command('bench')
    .description('Benchmark registries through the OCI Distribution API: Berth against Distribution (docker-registry)')
    .option('--quick', 'about 20x less work, a smoke run of under a minute')
    .option('--only <list>', `comma-separated workloads to run (${workloads.map((w) => w.name).join(',')})`, parseNameList)
    .option('--skip <list>', 'comma-separated workloads to leave out', parseNameList)
    .option('--json <file>', 'also write the raw results as JSON')
    .option('--berth-url <url>', 'measure an already running Berth (or any registry) instead of starting one')
    .option('--berth-pid <pid>', 'pid of the server behind --berth-url, to sample its memory', parsePositiveInt)
    .option('--berth-cmd <command>', 'command that starts Berth from the project root; {port} and {data} are filled in', defaultBerthCommand)
    .option('--berth-user <name>', 'user name, if the Berth target asks for authentication')
    .addOption(new Option('--berth-password <password>', 'its password').env('BERTH_BENCH_PASSWORD'))
    .option('--no-distribution', 'do not start docker-registry for comparison')
    .option(
      '--target <name=spec>',
      'measure these targets instead, in order (repeatable): name=berth | name=distribution | name=cmd:<command> | name=http://[user:pass@]host:port; the first two are compared',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addOption(new Option('--loadgen <tool>', 'load generator for the manifest workload').choices(['auto', 'wrk', 'node']).default('auto'))
    .option('--loadgen-threads <n>', 'wrk threads or Node load processes (wrk: 1, node: 2)', parsePositiveInt)
    .option('--work-dir <dir>', 'where temporary server data goes', tmpdir())
    .option('--sample-interval-ms <ms>', 'memory and CPU sampling interval', parsePositiveInt, 100)
    .option('--workload-timeout <s>', 'give up on one workload on one target after this long', parsePositiveInt, 1800);
  for (const { flag, parse, help } of sizeFlags) program.option(flag, help, parse);
  return program;
}

function optionsFrom(values: CliValues): BenchOptions {
  const quick = values.quick === true;
  const sizes: WorkloadSizes = { ...(quick ? quickSizes : fullSizes) };
  for (const { field } of sizeFlags) {
    const value = values[cliKey(field)];
    if (value !== undefined) (sizes as unknown as Record<string, unknown>)[field] = value;
  }
  const selected = workloads
    .map((w) => w.name)
    .filter((name) => !values.only || values.only.includes(name))
    .filter((name) => !values.skip?.includes(name));

  const credentials = values.berthUser ? { username: values.berthUser, password: values.berthPassword ?? '' } : undefined;
  let targets: TargetSpec[];
  if (values.target.length > 0) {
    targets = values.target.map((t) => parseTarget(t, values.berthCmd));
  } else {
    const berth: TargetSpec = values.berthUrl
      ? urlTarget('berth', values.berthUrl, values.berthPid, credentials)
      : { name: 'berth', kind: 'berth', command: values.berthCmd, credentials };
    targets = [berth];
    if (values.distribution) {
      if (distributionInstalled()) targets.push({ name: 'distribution', kind: 'distribution' });
      else console.error('docker-registry is not installed: measuring Berth alone (apt-get install docker-registry to compare)');
    }
  }
  return {
    sizes,
    quick,
    workloads: selected,
    targets,
    loadGenerator: values.loadgen,
    loadThreads: values.loadgenThreads ?? 0,
    workDir: resolve(values.workDir),
    projectRoot,
    jsonPath: values.json,
    sampleIntervalMs: values.sampleIntervalMs,
    workloadTimeoutMs: values.workloadTimeout * 1000,
    startTimeoutMs: 60_000,
  };
}

/** The camelCase key commander gives a size flag, e.g. `tagCounts` for `--tag-counts`. */
function cliKey(field: keyof WorkloadSizes): string {
  const flag = sizeFlags.find((f) => f.field === field)!.flag.split(' ')[0]!.slice(2);
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Shared by all targets so each generated blob's digest is computed once and the bytes match. */
const blobs = new Map<string, GeneratedBlob>();

/** What one workload leaves for a later one, per target. */
const fixturesByTarget = new Map<string, Map<string, unknown>>();

function sharedBlob(name: string, size: number): GeneratedBlob {
  const key = `${name}/${size}`;
  let blob = blobs.get(key);
  if (!blob) {
    blob = new GeneratedBlob(size, key);
    blobs.set(key, blob);
  }
  return blob;
}

async function runWorkload(workload: Workload, target: RunningTarget, options: BenchOptions, load: LoadGeneratorChoice): Promise<WorkloadResult> {
  const deadline = Date.now() + options.workloadTimeoutMs;
  const fixtures = fixturesByTarget.get(target.name) ?? new Map<string, unknown>();
  fixturesByTarget.set(target.name, fixtures);
  const ctx: WorkloadContext = {
    target,
    sizes: options.sizes,
    load,
    scratchDir: options.workDir,
    connect: (maxSockets) => RegistryClient.connect(target.url, { maxSockets, credentials: target.credentials }),
    blob: sharedBlob,
    fixtures,
    checkTime: () => {
      if (Date.now() > deadline) throw new Error(`gave up after ${options.workloadTimeoutMs / 1000} s (--workload-timeout)`);
    },
    log: (message) => console.error(`[${target.name}] ${workload.name}: ${message}`),
  };
  target.resources?.takeWindow();
  const start = Date.now();
  const result: WorkloadResult = { name: workload.name, title: workload.title(options.sizes), metrics: [], ms: 0 };
  try {
    result.metrics = await workload.run(ctx);
  } catch (error) {
    result.error = (error as Error).message;
    ctx.log(`FAILED: ${result.error}`);
    const tail = target.logTail();
    if (tail) console.error(`[${target.name}] server log tail:\n${tail}`);
  }
  result.ms = Date.now() - start;
  const window = target.resources?.takeWindow();
  if (window) {
    result.peakRssMiB = window.peakRssMiB;
    result.cpuSeconds = window.cpuSeconds;
  }
  return result;
}

async function measureTarget(spec: TargetSpec, options: BenchOptions, load: LoadGeneratorChoice): Promise<TargetResult> {
  console.error(`\n[${spec.name}] starting (${spec.kind})`);
  let target: RunningTarget;
  try {
    target = await startTarget(spec, options);
  } catch (error) {
    console.error(`[${spec.name}] ${(error as Error).message}`);
    return { name: spec.name, kind: spec.kind, url: spec.kind === 'url' ? spec.url : '', error: (error as Error).message, workloads: [] };
  }
  console.error(`[${spec.name}] ready at ${target.url}`);
  const result: TargetResult = { name: spec.name, kind: spec.kind, url: target.url, workloads: [] };
  if (target.version) result.version = target.version;
  try {
    for (const workload of workloads.filter((w) => options.workloads.includes(w.name))) {
      result.workloads.push(await runWorkload(workload, target, options, load));
    }
  } finally {
    const resources = await target.stop();
    if (resources) result.resources = resources;
  }
  return result;
}

async function main(): Promise<void> {
  const program = buildProgram();
  program.parse();
  const options = optionsFrom(program.opts<CliValues>());
  await mkdir(options.workDir, { recursive: true });
  const load = chooseLoadGenerator(options.loadGenerator, options.loadThreads || undefined);
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: describeMachine(),
    quick: options.quick,
    sizes: options.sizes,
    loadGenerator: load,
    targets: [],
  };
  for (const spec of options.targets) results.targets.push(await measureTarget(spec, options, load));

  const order = workloads.filter((w) => options.workloads.includes(w.name)).map((w) => ({ name: w.name, title: w.title(options.sizes) }));
  console.log(`\n${formatHeader(results)}\n${formatTables(results, order)}`);
  if (options.jsonPath) {
    await writeJson(options.jsonPath, results);
    console.log(`\nraw results: ${options.jsonPath}`);
  }
  const failed = results.targets.some((t) => t.error || t.workloads.some((w) => w.error));
  process.exitCode = failed ? 1 : 0;
}

await main();
