/**
 * `npm run bench`: drives registries through the OCI Distribution API, one target after the
 * other (never both at once: the machine's cores belong to the server under test), and prints
 * per-workload tables comparing the first target (Berth) with the second (Distribution).
 */
import { mkdir } from 'node:fs/promises';
import { parseCommandLine } from './cli.ts';
import { RegistryClient } from './client.ts';
import { GeneratedBlob } from './data.ts';
import { chooseLoadGenerator, type LoadGeneratorChoice } from './loadgen/load.ts';
import type { BenchOptions, TargetSpec } from './options.ts';
import { describeMachine, formatHeader, formatTables, writeJson, type BenchResults, type TargetResult, type WorkloadResult } from './report.ts';
import { settle } from './settle.ts';
import { startTarget, stopStartedTargets, type RunningTarget } from './targets.ts';
import { workloads } from './workloads/index.ts';
import type { Workload, WorkloadContext } from './workloads/workload.ts';

/** Shared by all targets so each generated blob's digest is computed once and the bytes match. */
const blobs = new Map<string, GeneratedBlob>();

/** What one workload leaves for a later one, per target. */
const fixturesByTarget = new Map<string, Map<string, unknown>>();

/** Set by SIGINT/SIGTERM: no further workload or target starts. */
let interrupted = false;

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
    connect: async (maxSockets, repository) => {
      const client = await RegistryClient.connect(target.url, { maxSockets, credentials: target.credentials });
      try {
        await client.authHeaders(repository);
      } catch (error) {
        client.close();
        throw error;
      }
      return client;
    },
    blob: sharedBlob,
    fixtures,
    settle: () => settle(options.settleSeconds),
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
  if (interrupted) {
    await target.stop();
    return { name: spec.name, kind: spec.kind, url: target.url, error: 'interrupted', workloads: [] };
  }
  console.error(`[${spec.name}] ready at ${target.url}`);
  const result: TargetResult = { name: spec.name, kind: spec.kind, url: target.url, workloads: [] };
  if (target.version) result.version = target.version;
  try {
    result.auth = await probeAuth(target);
  } catch (error) {
    result.error = `authentication: ${(error as Error).message}`;
    console.error(`[${spec.name}] ${result.error}`);
    result.resources = await target.stop();
    return result;
  }
  try {
    for (const workload of workloads.filter((w) => options.workloads.includes(w.name))) {
      if (interrupted) break;
      const skipped = await workload.skip?.(target);
      if (skipped) {
        console.error(`[${target.name}] ${workload.name}: skipped (${skipped})`);
        continue;
      }
      result.workloads.push(await runWorkload(workload, target, options, load));
    }
  } finally {
    const resources = await target.stop();
    if (resources) result.resources = resources;
  }
  return result;
}

/** The scheme the target asks for, after checking that the credentials get a push token. */
async function probeAuth(target: RunningTarget): Promise<string> {
  const client = await RegistryClient.connect(target.url, { maxSockets: 1, credentials: target.credentials });
  try {
    await client.authHeaders('bench/probe');
    return client.authScheme;
  } finally {
    client.close();
  }
}

function stopOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: stopping the servers the bench started and removing their data`);
      void stopStartedTargets().finally(() => process.exit(130));
    });
  }
}

async function main(): Promise<void> {
  const options = parseCommandLine(process.argv);
  stopOnSignals();
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
  for (const spec of options.targets) {
    if (interrupted) break;
    results.targets.push(await measureTarget(spec, options, load));
  }
  // An interrupted run ends from the signal handler once the server is stopped.
  if (interrupted) return;

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
