/**
 * Docker token scopes (`repository:samples/app:pull,push`, `registry:catalog:*`) and the
 * `access` claim of Berth access tokens built from them.
 */
import type { Action } from './actions.ts';
import type { AccessEntry } from './services.ts';

/** One `scope` value → an access request; undefined if malformed. A resource class (`repository(plugin)`) is dropped. */
export function parseAccessScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((action) => action.length > 0);
  if ((type !== 'repository' && type !== 'registry') || name.length === 0 || actions.length === 0) return undefined;
  return { type, name, actions: [...new Set(actions)] };
}

export function formatAccessScope(entry: AccessEntry): string {
  return `${entry.type}:${entry.name}:${entry.actions.join(',')}`;
}

/**
 * Whether an access token's `access` claim covers `action` on `repository` (`catalog` needs
 * `registry:catalog:*`). The claim was decided by the authorizer when the token was issued.
 */
export function accessAllows(access: readonly AccessEntry[], repository: string | undefined, action: Action): boolean {
  if (action === 'catalog') {
    return access.some((entry) => entry.type === 'registry' && entry.name === 'catalog' && entry.actions.includes('*'));
  }
  if (repository === undefined) return false;
  return access.some((entry) => entry.type === 'repository' && entry.name === repository && entry.actions.includes(action));
}
