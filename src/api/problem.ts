/** `application/problem+json` (RFC 9457) errors for the management API. */
import type { FastifyReply } from 'fastify';
import { AuthError, IdentityError } from '../auth/services.ts';

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }
}

const titles: Record<number, string> = {
  400: 'Invalid request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  429: 'Too many requests',
};

export function sendProblem(reply: FastifyReply, status: number, title: string, detail?: string, headers: Record<string, string> = {}): void {
  reply
    .code(status)
    .headers(headers)
    .header('content-type', 'application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, status, ...(detail ? { detail } : {}) }));
}

/** The management API's challenge: Basic credentials of a user or service principal, or a Berth access token. */
export const BASIC_CHALLENGE = 'Basic realm="berth"';

export function authenticationRequired(detail = 'valid credentials are required'): ProblemError {
  return new ProblemError(401, titles[401]!, detail, { 'WWW-Authenticate': BASIC_CHALLENGE });
}

/** Maps the identity services' errors onto problems; the reason for a failed login is not disclosed. */
export function problemOf(error: unknown): ProblemError | undefined {
  if (error instanceof ProblemError) return error;
  if (error instanceof IdentityError) return new ProblemError(error.status, titles[error.status] ?? 'Error', error.message);
  if (error instanceof AuthError) {
    if (error.reason === 'throttled') {
      const seconds = String(Math.max(1, Math.ceil(error.retryAfter ?? 60)));
      return new ProblemError(429, titles[429]!, `too many failed logins; retry after ${seconds} seconds`, { 'Retry-After': seconds });
    }
    return authenticationRequired();
  }
  return undefined;
}
