/**
 * Load from Node when wrk is missing: separate Node processes (so the generator has its own
 * cores' worth of event loops), each with its share of the keep-alive connections, started
 * together and merged into one latency distribution.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { percentile } from '../stats.ts';
import type { LoadRequest, LoadResult } from './load.ts';

export interface LoadProcessConfig {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
}

export interface LoadProcessResult {
  requests: number;
  errors: number;
  durationMs: number;
  /** Every request's latency in microseconds. */
  latenciesUs: number[];
}

/** Beyond the run itself: start-up, the processes' own hard stop, and printing the result. */
const resultGraceSeconds = 60;

const processScript = fileURLToPath(new URL('./node-load-process.ts', import.meta.url));

export async function runNodeLoad(request: LoadRequest): Promise<LoadResult> {
  const children: ChildProcess[] = [];
  const limitMs = (request.seconds + resultGraceSeconds) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`node load processes gave no result within ${limitMs / 1000} s`)), limitMs);
  });
  const run = coordinate(request, children);
  // When the time limit wins, the run fails later as its processes are killed; nobody awaits it.
  run.catch(() => undefined);
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
    for (const child of children) if (child.exitCode === null) child.kill();
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
  }
}

/** Starts the load processes, lets them go together once all have loaded, and merges their results. */
async function coordinate(request: LoadRequest, children: ChildProcess[]): Promise<LoadResult> {
  const processes = Math.max(1, Math.min(request.threads, request.connections));
  const outputs = Array.from({ length: processes }, (_, i) => {
    const config: LoadProcessConfig = {
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: request.body,
      connections: Math.floor(request.connections / processes) + (i < request.connections % processes ? 1 : 0),
      seconds: request.seconds,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', processScript, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    return lines(child);
  });
  await Promise.all(outputs.map(async (out) => expectLine(await out.next(), 'ready')));
  for (const child of children) child.stdin!.write('go\n');
  return merge(await Promise.all(outputs.map(async (out) => JSON.parse(expectLine(await out.next(), 'result ')) as LoadProcessResult)));
}

function lines(child: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
}

function expectLine(next: IteratorResult<string>, prefix: string): string {
  if (next.done || !next.value.startsWith(prefix)) throw new Error(`node load process: expected "${prefix.trim()}", got ${next.done ? 'end of output' : JSON.stringify(next.value.slice(0, 200))}`);
  return next.value.slice(prefix.length);
}

function merge(results: LoadProcessResult[]): LoadResult {
  const count = results.reduce((n, r) => n + r.latenciesUs.length, 0);
  const latencies = new Float64Array(count);
  let offset = 0;
  for (const r of results) {
    latencies.set(r.latenciesUs, offset);
    offset += r.latenciesUs.length;
  }
  latencies.sort();
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const durationMs = Math.max(...results.map((r) => r.durationMs));
  const sum = latencies.reduce((a, b) => a + b, 0);
  return {
    tool: 'node',
    requests,
    errors: results.reduce((n, r) => n + r.errors, 0),
    durationMs,
    requestsPerSecond: requests / (durationMs / 1000),
    p50Ms: percentile(latencies, 50) / 1000,
    p99Ms: percentile(latencies, 99) / 1000,
    meanMs: count > 0 ? sum / count / 1000 : Number.NaN,
    maxMs: count > 0 ? latencies[count - 1]! / 1000 : Number.NaN,
  };
}
