/**
 * The `n` and `last` query parameters of `/v2/_catalog` and `/v2/<name>/tags/list`, and the
 * `Link` header that points at the next page.
 */
import { RegistryError } from './errors.ts';

export interface Page {
  /** How many entries to return; undefined when the client did not say. `0` asks for an empty page. */
  n: number | undefined;
  /** Entries strictly after this one (in lexical order) come next; undefined to start at the beginning. */
  last: string | undefined;
}

/** A query value as HTTP frameworks hand it over: absent, once, or repeated. */
type QueryValue = string | string[] | undefined;

function single(value: QueryValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function parsePagination(query: { n?: QueryValue; last?: QueryValue }, maximum: number): Page {
  const last = single(query.last);
  if (query.n === undefined) return { n: undefined, last };
  const raw = query.n;
  if (Array.isArray(raw) || !/^[0-9]+$/.test(raw)) {
    throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, got "${String(raw)}"`);
  }
  const n = Number(raw);
  if (n > maximum) {
    throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be at most ${maximum}, got ${raw}`);
  }
  return { n, last };
}

/** The `Link` header value for the next page, e.g. `</v2/_catalog?n=10&last=a%2Fb>; rel="next"`. */
export function nextLink(path: string, n: number, last: string, extraQuery: Record<string, string> = {}): string {
  const query = Object.entries({ n: String(n), last, ...extraQuery })
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  return `<${path}?${query}>; rel="next"`;
}
