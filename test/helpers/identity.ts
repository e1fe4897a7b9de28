/** Management API and token steps for tests: create principals and permissions, fetch tokens. */
import assert from 'node:assert/strict';
import type { TestAuth, TestBerth, TestRequestInit } from '../helper.ts';

/** The same server, but every request defaults to `auth` instead of the owner. */
export function as(server: TestBerth, auth: TestAuth): TestBerth {
  return { ...server, request: (pathname: string, init: TestRequestInit = {}) => server.request(pathname, { auth, ...init }) };
}

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A management API call (`/mgmt/v1` + path) with a JSON body; as the owner unless `auth` says otherwise. */
export async function mgmt<T = Record<string, unknown>>(server: TestBerth, method: string, path: string, body?: unknown, auth?: TestAuth): Promise<JsonResponse<T>> {
  const response = await server.request(`/mgmt/v1${path}`, {
    method,
    ...(auth === undefined ? {} : { auth }),
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T, text };
}

/** Like `mgmt`, asserting the status. */
export async function mgmtOk<T = Record<string, unknown>>(server: TestBerth, status: number, method: string, path: string, body?: unknown, auth?: TestAuth): Promise<T> {
  const response = await mgmt<T>(server, method, path, body, auth);
  assert.equal(response.status, status, `${method} ${path}: ${response.text}`);
  return response.body;
}

export function portOf(server: TestBerth): string {
  return new URL(server.url).port;
}

/** `<name>.localhost:<port>`, the login server of a registry. */
export function loginServer(server: TestBerth, registry: string): string {
  return `${registry}.localhost:${portOf(server)}`;
}

export async function createRegistry(server: TestBerth, name: string, settings: Record<string, unknown> = {}): Promise<string> {
  await mgmtOk(server, 201, 'POST', '/registries', { name, ...settings });
  return loginServer(server, name);
}

export async function createUser(server: TestBerth, username: string, password: string): Promise<{ principalId: string }> {
  return mgmtOk(server, 201, 'POST', '/users', { username, password });
}

export async function assignRole(server: TestBerth, assignee: string, role: string, scope: string): Promise<{ id: string }> {
  return mgmtOk(server, 201, 'POST', '/role-assignments', { assignee, role, scope });
}

export interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
}

/** `GET /oauth2/token?service=&scope=...` with Basic credentials (or none); returns the raw response. */
export function requestToken(server: TestBerth, service: string, scopes: string[], auth: TestAuth, extraQuery = ''): Promise<Response> {
  const query = [`service=${encodeURIComponent(service)}`, ...scopes.map((scope) => `scope=${encodeURIComponent(scope)}`)].join('&');
  return server.request(`/oauth2/token?${query}${extraQuery}`, { auth, host: service });
}

/** An access token for `scopes`, asserting success. */
export async function accessToken(server: TestBerth, service: string, scopes: string[], auth: TestAuth): Promise<TokenResponse> {
  const response = await requestToken(server, service, scopes, auth);
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return JSON.parse(text) as TokenResponse;
}

/** `POST /oauth2/token` (or another form endpoint) with a form body. */
export function postForm(server: TestBerth, path: string, form: Record<string, string | string[]>, host?: string): Promise<Response> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) for (const item of [value].flat()) body.append(name, item);
  return server.request(path, { method: 'POST', auth: 'none', host, body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

/** The claims of a JWT, unverified. */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  assert.ok(payload, 'a JWT has three parts');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Asserts an OCI error response's status and first code, and returns its body. */
export async function ociError(response: Response, status: number, code: string): Promise<{ errors: { code: string; message: string; detail: unknown }[] }> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  const body = JSON.parse(text) as { errors: { code: string; message: string; detail: unknown }[] };
  assert.equal(body.errors[0]?.code, code, text);
  return body;
}
