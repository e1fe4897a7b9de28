/**
 * One Node load process: `connections` keep-alive sockets, each sending the same request again
 * as soon as the previous answer is complete, for a fixed time (with a small fixed body, such as
 * a form, if given). It speaks just enough HTTP/1.1 over raw sockets (status line, Content-Length
 * or chunked end, HEAD has no body) because node:http costs several times more CPU per request,
 * and the server needs that CPU.
 * Protocol on stdio: prints `ready`, waits for a line, runs, prints `result <json>`.
 */
import net from 'node:net';
import tls from 'node:tls';
import { createInterface } from 'node:readline';
import type { LoadProcessConfig, LoadProcessResult } from './node-load.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as LoadProcessConfig;
const url = new URL(config.url);
const secure = url.protocol === 'https:';
const port = Number(url.port || (secure ? 443 : 80));
const body = config.body === undefined ? undefined : Buffer.from(config.body);
const requestBytes = Buffer.concat([
  Buffer.from(
    [
      `${config.method} ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      ...Object.entries(config.headers).map(([name, value]) => `${name}: ${value}`),
      ...(body ? [`Content-Length: ${body.length}`] : []),
      '',
      '',
    ].join('\r\n'),
  ),
  body ?? Buffer.alloc(0),
]);
const headerEnd = Buffer.from('\r\n\r\n');
const chunkedEnd = Buffer.from('0\r\n\r\n');
const expectsBody = config.method !== 'HEAD';
const reconnectDelayMs = 10;
const hardStopGraceMs = 10_000;

interface Tally {
  latenciesUs: number[];
  errors: number;
}

/** Length of the complete response at the start of `data`, or 0 while it is still incomplete. */
function completeLength(data: Buffer): number {
  const end = data.indexOf(headerEnd);
  if (end < 0) return 0;
  const bodyStart = end + headerEnd.length;
  const status = Number(data.toString('latin1', 9, 12));
  if (!expectsBody || status === 204 || status === 304 || (status >= 100 && status < 200)) return bodyStart;
  const head = data.toString('latin1', 0, end).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) {
    const total = bodyStart + Number(length[1]);
    return data.length >= total ? total : 0;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    const tail = data.subarray(data.length - chunkedEnd.length);
    return data.length >= bodyStart + chunkedEnd.length && tail.equals(chunkedEnd) ? data.length : 0;
  }
  // Neither: the body runs until the server closes; such a server cannot be measured here.
  throw new Error('response without Content-Length or chunked encoding');
}

function statusOf(data: Buffer): number {
  return Number(data.toString('latin1', 9, 12));
}

/** One connection's request loop until the deadline; reconnects when the server closes it. */
function drive(deadline: number, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    let socket: net.Socket;
    let pending: Buffer | undefined;
    let started = 0;
    let inFlight = false;
    let finished = false;

    // A server that never answers must not hold the run past its time.
    const hardStop = setTimeout(() => {
      if (inFlight) tally.errors++;
      finish();
    }, deadline - performance.now() + hardStopGraceMs);
    function finish(): void {
      if (finished) return;
      finished = true;
      clearTimeout(hardStop);
      socket.destroy();
      resolve();
    }
    const send = () => {
      if (performance.now() >= deadline) return finish();
      pending = undefined;
      inFlight = true;
      started = performance.now();
      socket.write(requestBytes);
    };
    const connect = () => {
      socket = secure ? tls.connect({ host: url.hostname, port, servername: url.hostname }) : net.connect({ host: url.hostname, port });
      socket.setNoDelay(true);
      socket.once(secure ? 'secureConnect' : 'connect', send);
      socket.on('data', (chunk: Buffer) => {
        if (finished) return;
        pending = pending ? Buffer.concat([pending, chunk]) : chunk;
        let length: number;
        try {
          length = completeLength(pending);
        } catch {
          tally.errors++;
          return finish();
        }
        if (length === 0) return;
        inFlight = false;
        tally.latenciesUs.push(Math.round((performance.now() - started) * 1000));
        const status = statusOf(pending);
        if (status < 200 || status >= 300) tally.errors++;
        send();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (finished) return;
        // A close in the middle of a request is an error; between requests it is the server's choice.
        if (inFlight) tally.errors++;
        inFlight = false;
        if (performance.now() >= deadline) return finish();
        setTimeout(connect, reconnectDelayMs);
      });
    };
    connect();
  });
}

async function run(): Promise<LoadProcessResult> {
  const tally: Tally = { latenciesUs: [], errors: 0 };
  const start = performance.now();
  const deadline = start + config.seconds * 1000;
  await Promise.all(Array.from({ length: config.connections }, () => drive(deadline, tally)));
  return { requests: tally.latenciesUs.length, errors: tally.errors, durationMs: performance.now() - start, latenciesUs: tally.latenciesUs };
}

const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
await input.next();
const result = await run();
process.stdout.write(`result ${JSON.stringify(result)}\n`, () => process.exit(0));
