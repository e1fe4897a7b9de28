/**
 * The login server a request addresses, which is also the token `service` and audience: the Host
 * the client used (`contoso.localhost:5000`, or for the default registry e.g. `127.0.0.1:5000`).
 */
import type { FastifyRequest } from 'fastify';

const hostPattern = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/** The request's Host, lower-cased; `fallback` when it is missing or not a plain host[:port]. */
export function requestLoginServer(request: FastifyRequest, fallback: string): string {
  const host = request.headers.host?.toLowerCase();
  return host !== undefined && hostPattern.test(host) ? host : fallback;
}

/** The token endpoint clients are sent to, on the same login server. */
export function tokenRealm(request: FastifyRequest, loginServer: string): string {
  return `${request.protocol}://${loginServer}/oauth2/token`;
}

export function isPlainHost(value: string): boolean {
  return hostPattern.test(value.toLowerCase());
}
