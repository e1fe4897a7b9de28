/**
 * Sends one webhook request: POSTs the event JSON with the webhook's custom headers through the
 * outbound pipeline (request id, user agent, timeout) and reports the outcome the way the
 * delivery records and the retry decision need it. The whole attempt, body included, is bounded
 * by the timeout, so an endpoint that hangs costs one timeout and no more.
 */
import type { DeliveryResponse } from '../meta/webhook-store.ts';
import { fetchTransport } from '../outbound/fetch-transport.ts';
import { createRequest, OutboundError, OutboundPipeline, readTextPrefix, type HttpTransport } from '../outbound/pipeline.ts';
import { requestIdPolicy } from '../outbound/request-id.ts';
import type { AttemptOutcome } from '../outbound/retry.ts';
import { timeoutPolicy } from '../outbound/timeout.ts';
import { userAgentPolicy } from '../outbound/user-agent.ts';
import type { HeaderSeal } from './header-seal.ts';

/** How much of a receiver's response body is kept for `list-events`. */
const MAX_RESPONSE_BODY = 4096;

export interface WebhookClientOptions {
  timeoutMs: number;
  userAgent: string;
  transport?: HttpTransport;
}

export interface WebhookTarget {
  serviceUri: string;
  /** Sealed custom headers, or null. */
  customHeaders: string | null;
}

export interface WebhookAttempt {
  /** A 2xx answer. */
  ok: boolean;
  outcome: AttemptOutcome;
  response: DeliveryResponse | null;
  error: string | null;
}

export class WebhookClient {
  readonly #seal: HeaderSeal;
  readonly #options: WebhookClientOptions;
  readonly #pipeline: OutboundPipeline;

  constructor(seal: HeaderSeal, options: WebhookClientOptions) {
    this.#seal = seal;
    this.#options = options;
    this.#pipeline = new OutboundPipeline(
      [requestIdPolicy(), userAgentPolicy(options.userAgent), timeoutPolicy(options.timeoutMs)],
      options.transport ?? fetchTransport,
    );
  }

  sealHeaders(headers: Record<string, string>): string | null {
    return Object.keys(headers).length === 0 ? null : this.#seal.seal(headers);
  }

  /** The names of a webhook's custom headers. */
  headerNames(target: WebhookTarget): string[] {
    return target.customHeaders === null ? [] : Object.keys(this.#seal.unseal(target.customHeaders));
  }

  /** The headers a delivery carries, as `list-events` shows them: custom header values hidden. */
  shownRequestHeaders(target: WebhookTarget, payload: string): Record<string, string> {
    const shown: Record<string, string> = {};
    for (const name of this.headerNames(target)) shown[name] = '***';
    return { ...shown, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)), 'User-Agent': this.#options.userAgent };
  }

  /**
   * One attempt. Throws only when `signal` cancels it (the caller is stopping); every other
   * failure is reported in the result.
   */
  async send(target: WebhookTarget, payload: string, signal?: AbortSignal): Promise<WebhookAttempt> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new OutboundError('timeout', `no complete answer within ${this.#options.timeoutMs} ms`)), this.#options.timeoutMs);
    try {
      const custom = target.customHeaders === null ? {} : this.#seal.unseal(target.customHeaders);
      const request = createRequest({
        method: 'POST',
        url: target.serviceUri,
        headers: { ...custom, 'content-type': 'application/json' },
        body: payload,
        signal: signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal,
      });
      const response = await this.#pipeline.send(request);
      // The status counts even if the body then stalls or breaks off.
      const body = await readTextPrefix(response, MAX_RESPONSE_BODY).catch(() => '');
      const ok = response.status >= 200 && response.status < 300;
      return {
        ok,
        outcome: { status: response.status, retryAfter: response.headers.get('retry-after') },
        response: { status: response.status, reason: response.statusText, headers: Object.fromEntries(response.headers), body },
        error: ok ? null : `the endpoint answered ${response.status} ${response.statusText}`.trimEnd(),
      };
    } catch (error) {
      if (signal?.aborted) throw new OutboundError('aborted', 'the delivery was cancelled', { cause: error });
      return { ok: false, outcome: { error }, response: null, error: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
