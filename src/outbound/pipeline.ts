/**
 * Outbound HTTP (webhooks, import, later replication) as a pipeline of small named policies.
 * A request passes through each policy in order — request id, user agent, retry, timeout, auth,
 * whatever a caller assembles — and the last one hands it to the transport, which does the I/O.
 * Each policy sees the request on its way out and the response (or error) on its way back, so
 * cross-cutting behaviour lives in one place and can be tested without a network.
 *
 * Bodies are never buffered here: a response body is a stream the caller must consume or cancel,
 * and a request body may be a stream (sent once, never retried).
 */
import { fetchTransport } from './fetch-transport.ts';

/** What may be sent: a string or bytes can be sent again on a retry; a stream only once. */
export type OutboundBody = string | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface OutboundRequest {
  method: string;
  url: string;
  headers: Headers;
  body?: OutboundBody | null;
  /** Cancels the request, its retries and the waits between them, and the response body. */
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** The response body; consume it or cancel it, or the connection stays busy. */
  body: ReadableStream<Uint8Array> | null;
  /** The request as the transport sent it (after every policy). */
  request: OutboundRequest;
}

export type SendRequest = (request: OutboundRequest) => Promise<OutboundResponse>;

/** Sends a request over the network: the end of every pipeline. */
export type HttpTransport = SendRequest;

export interface PipelinePolicy {
  /** Unique within a pipeline; used to place other policies before or after it. */
  readonly name: string;
  send(request: OutboundRequest, next: SendRequest): Promise<OutboundResponse>;
}

export type OutboundErrorKind = 'timeout' | 'network' | 'aborted';

/** A request that got no response: timed out, failed on the network, or was cancelled. */
export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundError';
  }
}

export interface RequestInit {
  method?: string;
  url: string;
  headers?: HeadersInit;
  body?: OutboundBody | null;
  signal?: AbortSignal;
}

export function createRequest(init: RequestInit): OutboundRequest {
  return {
    method: init.method ?? 'GET',
    url: init.url,
    headers: new Headers(init.headers),
    ...(init.body !== undefined && { body: init.body }),
    ...(init.signal && { signal: init.signal }),
  };
}

/** Whether the request body can be sent more than once (no body, a string or bytes). */
export function isReplayable(request: OutboundRequest): boolean {
  const body = request.body;
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

export class OutboundPipeline {
  readonly #policies: readonly PipelinePolicy[];
  readonly #transport: HttpTransport;

  constructor(policies: readonly PipelinePolicy[], transport: HttpTransport = fetchTransport) {
    const names = new Set<string>();
    for (const policy of policies) {
      if (names.has(policy.name)) throw new Error(`outbound pipeline has two policies named ${policy.name}`);
      names.add(policy.name);
    }
    this.#policies = policies;
    this.#transport = transport;
  }

  /** The policies' names, in the order a request passes them. */
  get policyNames(): string[] {
    return this.#policies.map((policy) => policy.name);
  }

  send(request: OutboundRequest): Promise<OutboundResponse> {
    const step = (index: number): SendRequest => {
      const policy = this.#policies[index];
      if (!policy) return this.#transport;
      return (next) => policy.send(next, step(index + 1));
    };
    return step(0)(request);
  }

  /** A new pipeline with `policy` added: last by default, or just before or after a named policy. */
  with(policy: PipelinePolicy, place: { before: string } | { after: string } | 'last' = 'last'): OutboundPipeline {
    const policies = [...this.#policies];
    if (place === 'last') {
      policies.push(policy);
    } else {
      const anchor = 'before' in place ? place.before : place.after;
      const index = policies.findIndex((existing) => existing.name === anchor);
      if (index < 0) throw new Error(`outbound pipeline has no policy named ${anchor}`);
      policies.splice('before' in place ? index : index + 1, 0, policy);
    }
    return new OutboundPipeline(policies, this.#transport);
  }

  /** A new pipeline without the named policy. */
  without(name: string): OutboundPipeline {
    return new OutboundPipeline(
      this.#policies.filter((policy) => policy.name !== name),
      this.#transport,
    );
  }
}

/**
 * Reads at most `limit` bytes of a response body as text and cancels the rest, so a large or
 * endless body never fills memory.
 */
export async function readTextPrefix(response: OutboundResponse, limit: number): Promise<string> {
  const body = response.body;
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = value.subarray(0, limit - total);
      chunks.push(take);
      total += take.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Discards a response body without reading it. */
export async function discardBody(response: OutboundResponse): Promise<void> {
  await response.body?.cancel().catch(() => {});
}
