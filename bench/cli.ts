/**
 * The command line of `npm run bench`: flags to options, with the full or `--quick` sizes and
 * the targets to measure (by default Berth started from this checkout, then docker-registry).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fullSizes,
  parseNonNegativeInt,
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
import { defaultBerthCommand, distributionInstalled } from './targets.ts';
import { workloads } from './workloads/index.ts';

/**
 * On the VM of docs/benchmarks.md a 1 GiB push right after another ran at about half the speed
 * whatever the mode, while the disk below the VM was still writing the first one out; after a
 * 20 s rest each push ran at full speed, after 15 s most did.
 */
const defaultSettleSeconds = 15;

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** CLI flag → size field, with the parser of its value. */
const sizeFlags: { flag: string; field: keyof WorkloadSizes; parse: (text: string) => number | number[]; help: string }[] = [
  { flag: '--big-blob <size>', field: 'bigBlobBytes', parse: parseSize, help: 'blob pushed three ways and pulled (1GiB)' },
  { flag: '--chunk <size>', field: 'chunkBytes', parse: parseSize, help: 'PATCH size of the chunked push (16MiB)' },
  { flag: '--parallel-clients <n>', field: 'parallelClients', parse: parsePositiveInt, help: 'concurrent pulling clients (32)' },
  { flag: '--parallel-blob <size>', field: 'parallelBlobBytes', parse: parseSize, help: 'blob each concurrent client pulls (64MiB)' },
  { flag: '--parallel-rounds <n>', field: 'parallelRounds', parse: parsePositiveInt, help: 'pulls per concurrent client (2)' },
  { flag: '--manifest-seconds <s>', field: 'manifestSeconds', parse: parsePositiveNumber, help: 'measured seconds per manifest method (10)' },
  { flag: '--manifest-warmup <s>', field: 'manifestWarmupSeconds', parse: parsePositiveNumber, help: 'unmeasured warm-up seconds before each manifest and auth load run (1)' },
  { flag: '--manifest-connections <n>', field: 'manifestConnections', parse: parsePositiveInt, help: 'keep-alive connections (64)' },
  { flag: '--small-images <n>', field: 'smallImages', parse: parsePositiveInt, help: 'small images per push mode (1000)' },
  { flag: '--small-pushers <n>', field: 'smallPushers', parse: parsePositiveInt, help: 'concurrent pushers (8)' },
  { flag: '--small-layer <size>', field: 'smallLayerBytes', parse: parseSize, help: 'layer size of a small image (1KiB)' },
  { flag: '--small-warmup <s>', field: 'smallWarmupSeconds', parse: parsePositiveNumber, help: 'unmeasured pushes before each small-image measurement, at most --small-images (3)' },
  { flag: '--tag-counts <list>', field: 'tagCounts', parse: parseIntList, help: 'repositories to walk, by tag count (1000,10000)' },
  { flag: '--tag-page <n>', field: 'tagPageSize', parse: parsePositiveInt, help: 'n= of each tags/list page (100)' },
  { flag: '--tag-walks <n>', field: 'tagWalks', parse: parsePositiveInt, help: 'measured walks; the median is reported (5)' },
  { flag: '--tag-put-concurrency <n>', field: 'tagPutConcurrency', parse: parsePositiveInt, help: 'concurrent tag PUTs while creating tags (16)' },
  { flag: '--auth-seconds <s>', field: 'authSeconds', parse: parsePositiveNumber, help: 'measured seconds per auth mode and token grant (10)' },
  { flag: '--token-connections <n>', field: 'tokenConnections', parse: parsePositiveInt, help: 'keep-alive connections on /oauth2/token (16)' },
  { flag: '--first-logins <n>', field: 'firstLogins', parse: parsePositiveInt, help: 'users logging in once with a password, per measurement (32)' },
  { flag: '--first-login-concurrency <n>', field: 'firstLoginConcurrency', parse: parsePositiveInt, help: 'of those, logging in at once (8)' },
  { flag: '--import-layers <n>', field: 'importLayers', parse: parsePositiveInt, help: 'layers of the image the import workload copies (100)' },
  { flag: '--import-layer <size>', field: 'importLayerBytes', parse: parseSize, help: 'size of each of those layers (2MiB)' },
  { flag: '--gc-manifests <n>', field: 'gcManifests', parse: parsePositiveInt, help: 'images (2 blobs each, half deleted) the gc workload collects over (10000)' },
  { flag: '--gc-pushers <n>', field: 'gcPushers', parse: parsePositiveInt, help: 'pushers pushing while the collection runs (4)' },
  { flag: '--purge-tags <n>', field: 'purgeTags', parse: parsePositiveInt, help: 'tags (one small image each) the purge workload deletes (10000)' },
  { flag: '--task-samples <n>', field: 'taskSamples', parse: parsePositiveInt, help: 'runs per measured kind in the tasks workload (5)' },
  { flag: '--task-runs <n>', field: 'taskRuns', parse: parsePositiveInt, help: 'runs the tasks workload queues at once (10)' },
  { flag: '--trigger-tasks <n>', field: 'triggerTasks', parse: parsePositiveInt, help: 'tasks on one base image, all triggered by one push of it (200)' },
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
function parseTarget(text: string, berthCommand: string, credentials: Credentials | undefined): TargetSpec {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--target wants name=spec, got "${text}"`);
  const name = text.slice(0, eq);
  const spec = text.slice(eq + 1);
  if (spec === 'berth') return { name, kind: 'berth', command: berthCommand, credentials };
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
  settle?: number;
  [size: string]: unknown;
}

function buildProgram(): Command {
  const program = new Command('bench')
    .description('Benchmark registries through the OCI Distribution API: Berth against Distribution (docker-registry)')
    .option('--quick', 'about 20x less work, a smoke run of under a minute')
    .option('--only <list>', `comma-separated workloads to run (${workloads.map((w) => w.name).join(',')})`, asOptionParser(parseNameList))
    .option('--skip <list>', 'comma-separated workloads to leave out', asOptionParser(parseNameList))
    .option('--json <file>', 'also write the raw results as JSON')
    .option('--berth-url <url>', 'measure an already running Berth (or any registry) instead of starting one')
    .option('--berth-pid <pid>', 'pid of the server behind --berth-url, to sample its memory and CPU', asOptionParser(parsePositiveInt))
    .option('--berth-cmd <command>', 'command that starts Berth from the project root; {port} and {data} are filled in', defaultBerthCommand)
    .option('--berth-user <name>', 'user name for Berth (a started Berth gets it as its owner; default: a generated one)')
    .addOption(new Option('--berth-password <password>', 'its password').env('BERTH_BENCH_PASSWORD'))
    .option('--no-distribution', 'do not start docker-registry for comparison')
    .option(
      '--target <name=spec>',
      'measure these targets instead, in order (repeatable): name=berth | name=distribution | name=cmd:<command> | name=http://[user:pass@]host:port; the first two are compared',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addOption(new Option('--loadgen <tool>', 'load generator for the manifest workload').choices(['auto', 'wrk', 'node']).default('auto'))
    .option('--loadgen-threads <n>', 'wrk threads or Node load processes (wrk: 1, node: 2)', asOptionParser(parsePositiveInt))
    .option('--work-dir <dir>', 'where temporary server data goes', tmpdir())
    .option('--sample-interval-ms <ms>', 'memory and CPU sampling interval', asOptionParser(parsePositiveInt), 100)
    .option('--workload-timeout <s>', 'give up on one workload on one target after this long', asOptionParser(parsePositiveInt), 1800)
    .option('--settle <s>', `sync, then rest this long before each timed push and pull (default ${defaultSettleSeconds}, 0 with --quick)`, asOptionParser(parseNonNegativeInt));
  for (const { flag, parse, help } of sizeFlags) program.option(flag, help, asOptionParser(parse));
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
    targets = values.target.map((t) => parseTarget(t, values.berthCmd, credentials));
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
  const names = targets.map((t) => t.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) throw new Error(`two targets are named "${duplicate}"`);
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
    settleSeconds: values.settle ?? (quick ? 0 : defaultSettleSeconds),
  };
}

/** The camelCase key commander gives a size flag, e.g. `tagCounts` for `--tag-counts`. */
function cliKey(field: keyof WorkloadSizes): string {
  const flag = sizeFlags.find((f) => f.field === field)!.flag.split(' ')[0]!.slice(2);
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function parseCommandLine(argv: string[]): BenchOptions {
  const program = buildProgram();
  program.parse(argv);
  try {
    return optionsFrom(program.opts<CliValues>());
  } catch (error) {
    return program.error(`error: ${(error as Error).message}`);
  }
}

/** Lets commander report a value's parse error as a usage error instead of a stack trace. */
function asOptionParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}
