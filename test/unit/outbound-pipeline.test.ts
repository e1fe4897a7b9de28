import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequest, OutboundError, OutboundPipeline, readTextPrefix, type HttpTransport, type OutboundRequest, type PipelinePolicy } from '../../src/outbound/pipeline.ts';
import { requestIdPolicy } from '../../src/outbound/request-id.ts';
import { retryPolicy } from '../../src/outbound/retry.ts';
import { timeoutPolicy } from '../../src/outbound/timeout.ts';
import { userAgentPolicy } from '../../src/outbound/user-agent.ts';

function respond(status: number, body = '', headers: Record<string, string> = {}): ReturnType<HttpTransport> {
  return Promise.resolve({ status, statusText: '', headers: new Headers(headers), body: new Response(body).body, request: createRequest({ url: 'http://x/' }) });
}

/** A transport answering from a script, recording what it was sent. */
function scripted(answers: ((request: OutboundRequest) => ReturnType<HttpTransport>)[]): { transport: HttpTransport; sent: OutboundRequest[] } {
  const sent: OutboundRequest[] = [];
  return {
    sent,
    transport: (request) => {
      sent.push(request);
      const answer = answers[sent.length - 1];
      if (!answer) throw new Error('unexpected request');
      return answer(request);
    },
  };
}

const tag = (name: string, log: string[]): PipelinePolicy => ({
  name,
  async send(request, next) {
    log.push(`>${name}`);
    const response = await next(request);
    log.push(`<${name}`);
    return response;
  },
});

describe('outbound pipeline', () => {
  it('passes a request through its policies in order, and the response back in reverse', async () => {
    const log: string[] = [];
    const { transport } = scripted([() => respond(204)]);
    const pipeline = new OutboundPipeline([tag('a', log), tag('c', log)], transport).with(tag('b', log), { after: 'a' });
    assert.deepEqual(pipeline.policyNames, ['a', 'b', 'c']);
    assert.equal((await pipeline.send(createRequest({ url: 'http://x/' }))).status, 204);
    assert.deepEqual(log, ['>a', '>b', '>c', '<c', '<b', '<a']);
    assert.deepEqual(pipeline.without('b').policyNames, ['a', 'c']);
    assert.throws(() => new OutboundPipeline([tag('a', log), tag('a', log)], transport), /two policies named a/);
  });

  it('sets a request id and a user agent unless the caller did', async () => {
    const { transport, sent } = scripted([() => respond(200), () => respond(200)]);
    const pipeline = new OutboundPipeline([requestIdPolicy(), userAgentPolicy('berth/1.0')], transport);
    await pipeline.send(createRequest({ url: 'http://x/' }));
    await pipeline.send(createRequest({ url: 'http://x/', headers: { 'x-request-id': 'mine', 'user-agent': 'other' } }));
    assert.match(sent[0]!.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(sent[0]!.headers.get('user-agent'), 'berth/1.0');
    assert.equal(sent[1]!.headers.get('x-request-id'), 'mine');
    assert.equal(sent[1]!.headers.get('user-agent'), 'other');
  });

  it('retries a 503 and a network error, then returns the answer', async () => {
    const waits: number[] = [];
    const { transport, sent } = scripted([
      () => respond(503, 'busy'),
      () => Promise.reject(new OutboundError('network', 'ECONNRESET')),
      () => respond(200, 'ok'),
    ]);
    const pipeline = new OutboundPipeline([retryPolicy({ maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, random: () => 1, sleep: async (ms) => void waits.push(ms) })], transport);
    const response = await pipeline.send(createRequest({ url: 'http://x/', method: 'POST', body: 'payload' }));
    assert.equal(response.status, 200);
    assert.equal(await readTextPrefix(response, 100), 'ok');
    assert.equal(sent.length, 3);
    assert.deepEqual(waits, [100, 200]);
  });

  it('gives up after its retries, returning the last answer or throwing the last error', async () => {
    const noWait = { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} };
    const answers = scripted([() => respond(500), () => respond(502)]);
    assert.equal((await new OutboundPipeline([retryPolicy(noWait)], answers.transport).send(createRequest({ url: 'http://x/' }))).status, 502);
    const errors = scripted([() => Promise.reject(new OutboundError('timeout', 'slow')), () => Promise.reject(new OutboundError('timeout', 'slower'))]);
    await assert.rejects(new OutboundPipeline([retryPolicy(noWait)], errors.transport).send(createRequest({ url: 'http://x/' })), /slower/);
  });

  it('never retries a streamed body', async () => {
    const { transport, sent } = scripted([() => respond(503)]);
    const pipeline = new OutboundPipeline([retryPolicy({ maxRetries: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} })], transport);
    const stream = new Response('bytes').body!;
    assert.equal((await pipeline.send(createRequest({ url: 'http://x/', method: 'PUT', body: stream }))).status, 503);
    assert.equal(sent.length, 1);
  });

  it('times out an attempt that gets no answer, as a retryable timeout', async () => {
    const hang: HttpTransport = (request) =>
      new Promise((_resolve, reject) => request.signal?.addEventListener('abort', () => reject(request.signal?.reason), { once: true }));
    const pipeline = new OutboundPipeline([timeoutPolicy(50)], hang);
    const started = Date.now();
    await assert.rejects(pipeline.send(createRequest({ url: 'http://x/' })), (error: unknown) => error instanceof OutboundError && error.kind === 'timeout');
    assert.ok(Date.now() - started < 2000);
  });

  it('reads at most a prefix of a body', async () => {
    const response = await respond(200, 'x'.repeat(10_000));
    assert.equal((await readTextPrefix(response, 10)).length, 10);
  });
});
