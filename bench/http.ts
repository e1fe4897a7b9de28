/**
 * A minimal HTTP/1.1 client over node:http with a keep-alive agent: bodies are streamed in
 * (async iterables, never buffered whole) and responses are either kept (small JSON) or only
 * counted (blob downloads).
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type Body = Buffer | string | Iterable<Buffer> | AsyncIterable<Buffer>;

export interface RequestOptions {
  headers?: Record<string, string | number>;
  body?: Body;
  /** `buffer` keeps the response body (small responses only); `count` discards it, counting bytes. */
  read?: 'buffer' | 'count';
  /** Socket idle timeout; the request fails when no byte moves for this long. */
  idleTimeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Empty unless `read: 'buffer'`. */
  body: Buffer;
  bytes: number;
  socket: Socket;
}

const defaultIdleTimeoutMs = 120_000;

export class HttpClient {
  readonly base: URL;
  private readonly agent: http.Agent;

  constructor(baseUrl: string, maxSockets: number) {
    this.base = new URL(baseUrl);
    const AgentClass = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new AgentClass({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** `target` is a path (resolved against the base URL) or an absolute URL, e.g. a `Location`. */
  resolve(target: string): URL {
    return new URL(target, this.base);
  }

  async request(method: string, target: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
    const url = typeof target === 'string' ? this.resolve(target) : target;
    const transport = url.protocol === 'https:' ? https : http;
    // An agent only serves its own protocol; a redirect elsewhere gets a fresh connection.
    const agent = url.protocol === this.base.protocol ? this.agent : undefined;
    const headers: Record<string, string | number> = { ...options.headers };
    const body = options.body;
    if ((typeof body === 'string' || Buffer.isBuffer(body)) && headers['Content-Length'] === undefined) {
      headers['Content-Length'] = Buffer.byteLength(body);
    } else if (body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH')) {
      headers['Content-Length'] ??= 0;
    }

    const req = transport.request(url, { method, headers, agent });
    const idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`${method} ${url.pathname}: no progress for ${idleTimeoutMs} ms`)));

    const socket = new Promise<Socket>((resolve) => req.once('socket', resolve));
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    // It may fail while the body is still being sent; it is awaited (and its error used) after.
    response.catch(() => undefined);

    let sendError: unknown;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      // A server may answer (and close) before taking the whole body; its answer then wins.
      await pipeline(Readable.from(body), req).catch((error: unknown) => {
        sendError = error;
      });
    }

    let res: http.IncomingMessage;
    try {
      res = await response;
    } catch (error) {
      throw sendError ?? error;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    // Error bodies are kept too (up to a limit) so failures can say what the server said.
    const keepLimit = options.read === 'buffer' ? Infinity : (res.statusCode ?? 0) >= 400 ? 64 * 1024 : 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (bytes < keepLimit) chunks.push(chunk);
      bytes += chunk.length;
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes, socket: await socket };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Throws a readable error unless the response has one of the expected statuses. */
export function expectStatus(res: HttpResponse, expected: number[], what: string): void {
  if (expected.includes(res.status)) return;
  const detail = res.body.length > 0 ? `: ${res.body.toString('utf8', 0, Math.min(res.body.length, 300))}` : '';
  throw new Error(`${what}: HTTP ${res.status}, expected ${expected.join(' or ')}${detail}`);
}

export function header(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
