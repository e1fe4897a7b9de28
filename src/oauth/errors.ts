/** Errors of the token endpoints, written as `{"errors":[{"code","message","detail"}]}` like the registry's. */
import type { FastifyReply } from 'fastify';
import { AuthError } from '../auth/services.ts';

export type TokenErrorCode = 'INVALID_REQUEST' | 'UNAUTHORIZED' | 'TOOMANYREQUESTS';

export class TokenError extends Error {
  constructor(
    readonly status: 400 | 401 | 429,
    readonly code: TokenErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export function invalidRequest(message: string): TokenError {
  return new TokenError(400, 'INVALID_REQUEST', message);
}

/** A failed authentication as the token endpoints answer it; the reason is not disclosed. */
export function fromAuthError(error: AuthError, realm: string): TokenError {
  if (error.reason === 'throttled') {
    const seconds = String(Math.max(1, Math.ceil(error.retryAfter ?? 60)));
    return new TokenError(429, 'TOOMANYREQUESTS', `too many failed logins; retry after ${seconds} seconds`, { 'Retry-After': seconds });
  }
  return new TokenError(401, 'UNAUTHORIZED', 'authentication required', { 'WWW-Authenticate': `Basic realm="${realm}"` });
}

export function sendTokenError(reply: FastifyReply, error: TokenError): void {
  reply
    .code(error.status)
    .headers(error.headers)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ errors: [{ code: error.code, message: error.message, detail: null }] }));
}
