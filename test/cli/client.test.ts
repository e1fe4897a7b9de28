import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorMessage, nextLink } from '../../src/cli/client.ts';
import type { HttpResponse } from '../../src/cli/http.ts';
import { hostnameOf } from '../../src/cli/http.ts';

function response(status: number, text: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, text, headers };
}

describe('CLI client', () => {
  it('turns problem+json and OCI error bodies into the server message', () => {
    assert.equal(errorMessage(response(404, JSON.stringify({ type: 'about:blank', title: 'Registry not found', status: 404, detail: 'registry x does not exist' })), 'owner'), 'registry x does not exist');
    assert.equal(errorMessage(response(409, JSON.stringify({ title: 'Conflict', status: 409 })), 'owner'), 'Conflict');
    assert.equal(
      errorMessage(response(403, JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] })), 'owner'),
      'requested access to the resource is denied',
    );
    assert.equal(errorMessage(response(502, 'upstream broke'), 'owner'), '502 Error: upstream broke');
    assert.equal(errorMessage(response(500, '<html>oops</html>'), 'owner'), '500 Internal Server Error');
  });

  it('says what to do about a 401, and when to retry a 429', () => {
    const unauthorized = JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
    assert.match(errorMessage(response(401, unauthorized), undefined), /^authentication required \(no Berth credential: .*berth configure/);
    assert.equal(errorMessage(response(401, unauthorized), 'alice'), 'authentication required (the server did not accept the credential of alice)');
    assert.equal(errorMessage(response(429, '', { 'retry-after': '60' }), 'alice'), '429 Too Many Requests (retry after 60 s)');
    const throttled = JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'too many failed logins; retry after 60 seconds' }] });
    assert.equal(errorMessage(response(429, throttled, { 'retry-after': '60' }), 'alice'), 'too many failed logins; retry after 60 seconds');
  });

  it('Link headers give the next page', () => {
    assert.equal(nextLink('</acr/v1/_catalog?last=b&n=2>; rel="next"'), '/acr/v1/_catalog?last=b&n=2');
    assert.equal(nextLink('<https://contoso.localhost:5000/acr/v1/x/_tags?last=v2&n=100&orderby=timedesc>; rel="next"'), '/acr/v1/x/_tags?last=v2&n=100&orderby=timedesc');
    assert.equal(nextLink('</a>; rel="prev", </b>; rel="next"'), '/b');
    assert.equal(nextLink(undefined), undefined);
    assert.equal(nextLink('</a>; rel="prev"'), undefined);
  });

  it('login servers name the TLS server without their port', () => {
    assert.equal(hostnameOf('contoso.localhost:5000'), 'contoso.localhost');
    assert.equal(hostnameOf('contoso.example.com'), 'contoso.example.com');
    assert.equal(hostnameOf('[::1]:5000'), '::1');
  });
});
