/**
 * Input rules for identity objects. Each check returns why the value is refused, or undefined
 * when it is acceptable; the identity service turns a reason into a 400.
 */
import { maxPasswordLength, minPasswordLength } from './passwords.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const usernamePattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const servicePrincipalNamePattern = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;
/** ACR's rule for token and scope map names. */
const childNamePattern = /^[A-Za-z0-9_-]{5,50}$/;
export const maxDescriptionLength = 256;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

export function usernameProblem(username: string): string | undefined {
  if (!usernamePattern.test(username)) {
    return `invalid user name "${username}": use 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`;
  }
  // A UUID-shaped name would be taken for a service principal's appId (or the null GUID).
  if (isUuid(username)) return `invalid user name "${username}": user names cannot look like an appId`;
  return undefined;
}

export function passwordProblem(password: string): string | undefined {
  if (password.length < minPasswordLength) return `the password must have at least ${minPasswordLength} characters`;
  if (password.length > maxPasswordLength) return `the password must have at most ${maxPasswordLength} characters`;
  return undefined;
}

export function servicePrincipalNameProblem(name: string): string | undefined {
  return servicePrincipalNamePattern.test(name)
    ? undefined
    : `invalid service principal name "${name}": use 1 to 100 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit`;
}

/** Token and scope map names. */
export function isValidChildName(name: string): boolean {
  return childNamePattern.test(name);
}

export function childNameProblem(kind: 'token' | 'scope map', name: string): string | undefined {
  return isValidChildName(name)
    ? undefined
    : `invalid ${kind} name "${name}": use 5 to 50 letters, digits, "-" or "_"`;
}

export function descriptionProblem(description: string): string | undefined {
  return description.length > maxDescriptionLength ? `the description must have at most ${maxDescriptionLength} characters` : undefined;
}

/** An expiry time: ISO-8601, in the future. Returns the normalised form, or the problem. */
export function parseExpiry(value: string, now: number): { expiry: string } | { problem: string } {
  const time = Date.parse(value);
  if (Number.isNaN(time) || !/^\d{4}-\d\d-\d\d/.test(value)) return { problem: `invalid expiry "${value}": use an ISO-8601 time` };
  if (time <= now) return { problem: `the expiry ${value} is not in the future` };
  return { expiry: new Date(time).toISOString() };
}
