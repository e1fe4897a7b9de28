/**
 * Fixed-duration HTTP load with many keep-alive connections: `wrk` when installed (it costs the
 * server's two cores least), else Node processes running a request loop.
 */
import { spawnSync } from 'node:child_process';
import type { LoadGenerator } from '../options.ts';
import { runNodeLoad } from './node-load.ts';
import { runWrk } from './wrk.ts';

export interface LoadGeneratorChoice {
  tool: 'wrk' | 'node';
  wrkThreads: number;
  nodeProcesses: number;
}

export interface LoadRequest {
  url: string;
  method: 'GET' | 'HEAD' | 'POST';
  headers: Record<string, string>;
  /** Sent with every request (a small form, e.g. a token grant); `Content-Length` is added. */
  body?: string;
  connections: number;
  seconds: number;
  threads: number;
  /** Where the generator may write its scratch files. */
  scratchDir: string;
}

export interface LoadResult {
  tool: 'wrk' | 'node';
  requests: number;
  /** Non-2xx answers plus connection, read, write and timeout errors. */
  errors: number;
  durationMs: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

/** `threads` sets wrk threads or Node load processes, whichever is chosen. */
export function chooseLoadGenerator(wanted: LoadGenerator, threads: number | undefined): LoadGeneratorChoice {
  const wrkAvailable = spawnSync('wrk', ['--version']).error === undefined;
  if (wanted === 'wrk' && !wrkAvailable) throw new Error('--loadgen wrk: wrk is not installed (apt-get install wrk)');
  const tool = wanted === 'node' || !wrkAvailable ? 'node' : 'wrk';
  // One wrk thread outpaces what a server on the remaining core answers; Node needs two loops.
  return {
    tool,
    wrkThreads: tool === 'wrk' ? (threads ?? 1) : 0,
    nodeProcesses: tool === 'node' ? (threads ?? 2) : 2,
  };
}

/**
 * The tool used for `method`: Debian's wrk 4.1 waits for a body after a HEAD answer that has a
 * Content-Length, so no HEAD request ever completes; HEAD always goes through the Node loop.
 */
export function toolFor(choice: LoadGeneratorChoice, method: LoadRequest['method']): 'wrk' | 'node' {
  return choice.tool === 'wrk' && method !== 'HEAD' ? 'wrk' : 'node';
}

export function runLoad(choice: LoadGeneratorChoice, request: Omit<LoadRequest, 'threads'>): Promise<LoadResult> {
  return toolFor(choice, request.method) === 'wrk'
    ? runWrk({ ...request, threads: choice.wrkThreads })
    : runNodeLoad({ ...request, threads: choice.nodeProcesses });
}

/** Above this share of failed requests the numbers mean nothing. */
const maxErrorShare = 0.01;

/** Throws when no request completed or more than 1% failed (non-2xx answers or socket errors). */
export function checkLoadErrors(what: string, result: LoadResult): void {
  if (result.requests === 0) throw new Error(`${what}: no request completed`);
  if (result.errors / result.requests > maxErrorShare) {
    throw new Error(`${what}: ${result.errors} of ${result.requests} requests failed (non-2xx or socket errors)`);
  }
}

export function describeLoadGenerator(choice: LoadGeneratorChoice): string {
  const node = `node (${choice.nodeProcesses} load processes)`;
  return choice.tool === 'wrk' ? `wrk (${choice.wrkThreads} thread(s)) for GET and POST; ${node} for HEAD, which Debian's wrk 4.1 cannot do` : node;
}
