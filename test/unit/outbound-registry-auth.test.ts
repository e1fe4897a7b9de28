/** The `registryAuth` policy against a scripted transport: the token flow without a network. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequest, OutboundPipeline, type OutboundRequest, type OutboundResponse } from '../../src/outbound/pipeline.ts';
import { registryAuthPolicy } from '../../src/outbound/registry-auth.ts';

type Handler = (request: OutboundRequest) => { status: number; headers?: Record<string, string>; body?: string };

/** A transport that answers from `handler` and records every request it was given. */
function scripted(handler: Handler) {
  const sent: { url: string; authorization: string | null }[] = [];
  const transport = async (request: OutboundRequest): Promise<OutboundResponse> => {
    sent.push({ url: request.url, authorization: request.headers.get('authorization') });
    const { status, headers = {}, body = '' } = handler(request);
    return { status, statusText: '', headers: new Headers(headers), body: new Response(body).body, request };
  };
  return { sent, transport };
}

const REGISTRY = 'http://registry.test';
const challenge = { 'www-authenticate': 'Bearer realm="http://auth.test/token",service="registry.test",scope="repository:app:pull"' };

function bearerRegistry(options: { expiresIn?: number } = {}): Handler {
  return (request) => {
    const url = new URL(request.url);
    if (url.origin === 'http://auth.test') {
      const basic = request.headers.get('authorization');
      if (basic && basic !== `Basic ${Buffer.from('u:p').toString('base64')}`) return { status: 401, headers: { 'www-authenticate': 'Basic realm="auth"' } };
      return { status: 200, body: JSON.stringify({ token: basic ? 'user-token' : 'anonymous-token', expires_in: options.expiresIn ?? 300 }) };
    }
    return request.headers.get('authorization') === 'Bearer user-token' ? { status: 200, body: 'ok' } : { status: 401, headers: challenge };
  };
}

const get = (pipeline: OutboundPipeline, path: string) => pipeline.send(createRequest({ url: `${REGISTRY}${path}` }));

describe('registryAuth policy', () => {
  it('follows a Bearer challenge to the token endpoint with Basic credentials, then repeats the request', async () => {
    const { sent, transport } = scripted(bearerRegistry());
    const pipeline = new OutboundPipeline([registryAuthPolicy({ credentials: { username: 'u', password: 'p' } })], transport);
    const response = await get(pipeline, '/v2/app/manifests/1');
    assert.equal(response.status, 200);
    assert.deepEqual(sent, [
      { url: `${REGISTRY}/v2/app/manifests/1`, authorization: null },
      { url: 'http://auth.test/token?service=registry.test&scope=repository%3Aapp%3Apull', authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
      { url: `${REGISTRY}/v2/app/manifests/1`, authorization: 'Bearer user-token' },
    ]);
  });

  it('reuses the cached token for the same repository without another challenge, until it expires', async () => {
    let now = 0;
    const { sent, transport } = scripted(bearerRegistry({ expiresIn: 60 }));
    const pipeline = new OutboundPipeline([registryAuthPolicy({ credentials: { username: 'u', password: 'p' }, now: () => now })], transport);
    await get(pipeline, '/v2/app/manifests/1');
    sent.length = 0;
    await get(pipeline, '/v2/app/blobs/sha256:00');
    assert.deepEqual(sent, [{ url: `${REGISTRY}/v2/app/blobs/sha256:00`, authorization: 'Bearer user-token' }]);
    now = 59_000;
    sent.length = 0;
    await get(pipeline, '/v2/app/blobs/sha256:00');
    assert.equal(sent[0]!.authorization, null, 'an almost expired token is not sent');
    assert.equal(sent.length, 3);
  });

  it('asks anonymously without credentials; a token that does not help gives back the 401', async () => {
    const { sent, transport } = scripted(bearerRegistry());
    const pipeline = new OutboundPipeline([registryAuthPolicy()], transport);
    const response = await get(pipeline, '/v2/app/manifests/1');
    assert.equal(response.status, 401);
    assert.equal(sent[1]!.authorization, null, 'anonymous token request');
    assert.equal(sent[2]!.authorization, 'Bearer anonymous-token');
    assert.equal(sent.length, 3, 'the request is repeated once, never more');
  });

  it('returns the token endpoint refusal when the credentials are wrong', async () => {
    const { sent, transport } = scripted(bearerRegistry());
    const pipeline = new OutboundPipeline([registryAuthPolicy({ credentials: { username: 'u', password: 'wrong' } })], transport);
    const response = await get(pipeline, '/v2/app/manifests/1');
    assert.equal(response.status, 401);
    assert.equal(new URL(response.request.url).origin, 'http://auth.test');
    assert.equal(sent.length, 2);
  });

  it('answers a Basic challenge with the credentials once, and then sends them up front', async () => {
    const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
    const { sent, transport } = scripted((request) =>
      request.headers.get('authorization') === basic ? { status: 200 } : { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } },
    );
    const pipeline = new OutboundPipeline([registryAuthPolicy({ credentials: { username: 'u', password: 'p' } })], transport);
    assert.equal((await get(pipeline, '/v2/a/manifests/1')).status, 200);
    assert.equal((await get(pipeline, '/v2/b/manifests/1')).status, 200);
    assert.deepEqual(
      sent.map((request) => request.authorization),
      [null, basic, basic],
    );
  });

  it('leaves a Basic challenge unanswered without credentials, and other statuses alone', async () => {
    const { sent, transport } = scripted((request) => (request.url.endsWith('/1') ? { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } } : { status: 404 }));
    const pipeline = new OutboundPipeline([registryAuthPolicy()], transport);
    assert.equal((await get(pipeline, '/v2/a/manifests/1')).status, 401);
    assert.equal((await get(pipeline, '/v2/a/manifests/2')).status, 404);
    assert.equal(sent.length, 2);
  });
});
