/**
 * Docker token scopes: `repository:<name>:<actions>`, `repository(<class>):<name>:<actions>` and
 * `registry:catalog:*`, several per request (repeated parameters or space-separated). Parsed into
 * the access entries a token request asks for; the token issuer narrows them to what is granted.
 */
import type { AccessEntry } from '../auth/services.ts';
import { isValidRepositoryName } from '../oci/names.ts';

export class ScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScopeError';
  }
}

/** Scope strings longer than this, or more of them, are refused rather than parsed. */
const MAX_SCOPE_LENGTH = 1024;
const MAX_SCOPES = 64;

const typePattern = /^([a-z0-9]+)(?:\([a-z0-9._-]+\))?$/;
const actionPattern = /^(?:[a-z_]+|\*)$/;

/** Parses every scope in `values`; entries for the same resource are merged. Throws `ScopeError`. */
export function parseScopes(values: readonly string[]): AccessEntry[] {
  const scopes = values.flatMap((value) => value.split(' ')).filter((scope) => scope !== '');
  if (scopes.length > MAX_SCOPES) throw new ScopeError(`too many scopes (at most ${MAX_SCOPES})`);
  const merged = new Map<string, AccessEntry>();
  for (const scope of scopes) {
    const entry = parseScope(scope);
    const key = `${entry.type}:${entry.name}`;
    const existing = merged.get(key);
    if (existing) {
      for (const action of entry.actions) if (!existing.actions.includes(action)) existing.actions.push(action);
    } else {
      merged.set(key, entry);
    }
  }
  return [...merged.values()];
}

function parseScope(scope: string): AccessEntry {
  if (scope.length > MAX_SCOPE_LENGTH) throw new ScopeError('scope too long');
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) throw new ScopeError(`invalid scope "${scope}": expected <type>:<name>:<actions>`);
  const type = typePattern.exec(scope.slice(0, first))?.[1];
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(',').filter((action) => action !== '');
  if (actions.length === 0 || !actions.every((action) => actionPattern.test(action))) {
    throw new ScopeError(`invalid actions in scope "${scope}"`);
  }
  if (type === 'repository') {
    if (!isValidRepositoryName(name)) throw new ScopeError(`invalid repository name in scope "${scope}"`);
    return { type: 'repository', name, actions: [...new Set(actions)] };
  }
  if (type === 'registry') {
    if (name !== 'catalog') throw new ScopeError(`unknown registry resource in scope "${scope}"`);
    return { type: 'registry', name, actions: [...new Set(actions)] };
  }
  throw new ScopeError(`unsupported resource type in scope "${scope}"`);
}

/** The scope string of an entry, e.g. `repository:hello-world:pull,push`. */
export function formatScope(entry: AccessEntry): string {
  return `${entry.type}:${entry.name}:${entry.actions.join(',')}`;
}

/** True when `access` (a token's granted entries) covers `action` on the resource. */
export function accessCovers(access: readonly AccessEntry[], type: AccessEntry['type'], name: string, action: string): boolean {
  return access.some(
    (entry) => entry.type === type && entry.name === name && (entry.actions.includes(action) || entry.actions.includes('*')),
  );
}
