/**
 * Retrying: which outcomes deserve another attempt and how long to wait first, as pure functions
 * (tested without a network), and the `retry` policy that applies them within one request.
 * Callers that retry durably across restarts (webhook deliveries) use the same decision and
 * schedule the next attempt themselves.
 *
 * Retried: no response at all (network error, timeout), 408, 429 and 500/502/503/504. Waits grow
 * exponentially with jitter up to a ceiling; a server's `Retry-After` is honoured (capped at the
 * ceiling). Never retried: a cancelled request, or one whose body was a stream (it is spent).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { discardBody, isReplayable, OutboundError, type OutboundResponse, type PipelinePolicy } from './pipeline.ts';

export interface BackoffOptions {
  /** The wait before the first retry (before jitter). */
  baseDelayMs: number;
  /** No wait is longer than this, whatever the attempt or the server's `Retry-After`. */
  maxDelayMs: number;
}

export interface RetryOptions extends BackoffOptions {
  /** Retries after the first attempt; 0 never retries. */
  maxRetries: number;
}

/** How an attempt ended, as far as retrying is concerned. */
export type AttemptOutcome = { status: number; retryAfter?: string | null } | { error: unknown };

export type RetryDecision = { retry: false } | { retry: true; delayMs: number };

const retryableStatuses = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return retryableStatuses.has(status);
}

/** Timeouts and network failures may pass; a cancellation or a programming error will not. */
export function isRetryableError(error: unknown): boolean {
  return error instanceof OutboundError && error.kind !== 'aborted';
}

/**
 * The wait before retry number `retry` (1-based): `base * 2^(retry-1)`, capped, of which the
 * upper half is random ("equal jitter"), so clients that failed together do not return together.
 */
export function backoffDelayMs(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; undefined if absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Whether the outcome of attempt number `attempt` (1-based) calls for another, and after how long. */
export function retryDecision(
  outcome: AttemptOutcome,
  attempt: number,
  options: RetryOptions,
  clock: { now?: number; random?: () => number } = {},
): RetryDecision {
  if ('error' in outcome) {
    if (!isRetryableError(outcome.error)) return { retry: false };
  } else if (!isRetryableStatus(outcome.status)) {
    return { retry: false };
  }
  if (attempt > options.maxRetries) return { retry: false };
  const hinted = 'status' in outcome ? retryAfterMs(outcome.retryAfter, clock.now ?? Date.now()) : undefined;
  const delayMs = hinted !== undefined ? Math.min(hinted, options.maxDelayMs) : backoffDelayMs(attempt, options, clock.random);
  return { retry: true, delayMs };
}

export interface RetryPolicyOptions extends RetryOptions {
  /** Waits `ms` unless `signal` aborts first (tests pass a fake). */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  random?: () => number;
}

async function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    throw new OutboundError('aborted', 'cancelled while waiting to retry', { cause: error });
  }
}

export function retryPolicy(options: RetryPolicyOptions): PipelinePolicy {
  const sleep = options.sleep ?? sleepUnlessAborted;
  return {
    name: 'retry',
    async send(request, next) {
      const replayable = isReplayable(request);
      for (let attempt = 1; ; attempt++) {
        let response: OutboundResponse | undefined;
        let outcome: AttemptOutcome;
        try {
          // Later policies may set headers (auth); each attempt starts from the caller's.
          response = await next({ ...request, headers: new Headers(request.headers) });
          outcome = { status: response.status, retryAfter: response.headers.get('retry-after') };
        } catch (error) {
          outcome = { error };
        }
        const decision: RetryDecision = replayable ? retryDecision(outcome, attempt, options, { random: options.random }) : { retry: false };
        if (!decision.retry) {
          if (response) return response;
          throw (outcome as { error: unknown }).error;
        }
        if (response) await discardBody(response);
        await sleep(decision.delayMs, request.signal);
      }
    },
  };
}
