/**
 * The `Authorization` header as clients send it: `Basic base64(user:password)` or
 * `Bearer <access token>`. Anything else, and anything absurdly long, is refused as a bad
 * credential (a 401), never passed on.
 */
import { AuthError } from '../auth/services.ts';

export type Credentials =
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'bearer'; token: string };

/** Longer Authorization values are refused before any decoding. Real JWTs and passwords are far shorter. */
export const MAX_AUTHORIZATION_LENGTH = 8192;

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;
/** RFC 6750 `b64token`. */
const bearerPattern = /^[A-Za-z0-9\-._~+/]+=*$/;
const controlCharacters = /[\u0000-\u001f\u007f]/;

function malformed(why: string): AuthError {
  return new AuthError('invalid', `malformed Authorization header: ${why}`);
}

/** The credentials of a request, undefined when it carries none; throws `AuthError` when malformed. */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (header === undefined || header === '') return undefined;
  if (header.length > MAX_AUTHORIZATION_LENGTH) throw malformed('too long');
  const space = header.indexOf(' ');
  if (space === -1) throw malformed('expected "<scheme> <value>"');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'basic') return parseBasic(value);
  if (scheme === 'bearer') {
    if (!bearerPattern.test(value)) throw malformed('invalid bearer token');
    return { scheme: 'bearer', token: value };
  }
  throw malformed('unsupported scheme; use Basic or Bearer');
}

function parseBasic(value: string): Credentials {
  if (!base64Pattern.test(value) || value.length % 4 === 1) throw malformed('invalid base64');
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw malformed('expected user:password');
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (password === '') throw malformed('empty password');
  if (controlCharacters.test(decoded) || decoded.includes('\ufffd')) throw malformed('invalid characters');
  return { scheme: 'basic', username, password };
}

/** `Basic base64(user:password)`, for clients and tests. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
