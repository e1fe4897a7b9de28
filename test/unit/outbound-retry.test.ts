import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutboundError } from '../../src/outbound/pipeline.ts';
import { backoffDelayMs, isRetryableStatus, retryAfterMs, retryDecision } from '../../src/outbound/retry.ts';

const options = { maxRetries: 3, baseDelayMs: 1000, maxDelayMs: 10_000 };
const noJitter = { random: () => 1, now: Date.parse('2026-01-01T00:00:00Z') };

describe('outbound retry decisions (pure)', () => {
  it('retries timeouts, network errors, 408, 429 and 500/502/503/504, nothing else', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) assert.equal(isRetryableStatus(status), true, String(status));
    for (const status of [200, 201, 301, 400, 401, 403, 404, 409, 501, 505]) assert.equal(isRetryableStatus(status), false, String(status));
    assert.equal(retryDecision({ error: new OutboundError('timeout', 'slow') }, 1, options, noJitter).retry, true);
    assert.equal(retryDecision({ error: new OutboundError('network', 'ECONNREFUSED') }, 1, options, noJitter).retry, true);
    assert.equal(retryDecision({ error: new OutboundError('aborted', 'stop') }, 1, options, noJitter).retry, false);
    assert.equal(retryDecision({ error: new TypeError('bug') }, 1, options, noJitter).retry, false);
    assert.equal(retryDecision({ status: 404 }, 1, options, noJitter).retry, false);
    assert.equal(retryDecision({ status: 200 }, 1, options, noJitter).retry, false);
  });

  it('stops after maxRetries retries', () => {
    assert.equal(retryDecision({ status: 503 }, 3, options, noJitter).retry, true);
    assert.equal(retryDecision({ status: 503 }, 4, options, noJitter).retry, false);
    assert.equal(retryDecision({ status: 503 }, 1, { ...options, maxRetries: 0 }, noJitter).retry, false);
  });

  it('waits exponentially longer, with the upper half random, up to the ceiling', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((retry) => backoffDelayMs(retry, options, () => 1)), [1000, 2000, 4000, 8000, 10_000, 10_000]);
    assert.deepEqual([1, 2, 3].map((retry) => backoffDelayMs(retry, options, () => 0)), [500, 1000, 2000]);
    assert.deepEqual(retryDecision({ status: 500 }, 2, options, noJitter), { retry: true, delayMs: 2000 });
  });

  it("honours Retry-After (seconds or an HTTP date), capped at the ceiling", () => {
    assert.equal(retryAfterMs('3', 0), 3000);
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', noJitter.now), 5000);
    assert.equal(retryAfterMs('soon', 0), undefined);
    assert.equal(retryAfterMs(null, 0), undefined);
    assert.deepEqual(retryDecision({ status: 429, retryAfter: '2' }, 1, options, noJitter), { retry: true, delayMs: 2000 });
    assert.deepEqual(retryDecision({ status: 503, retryAfter: '3600' }, 1, options, noJitter), { retry: true, delayMs: 10_000 });
  });
});
