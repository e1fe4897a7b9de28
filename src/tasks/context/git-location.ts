import { posix } from 'node:path';
import { ContextError } from './context-source.ts';

/** A git context location, `<repository>[#<ref>][:<folder>]`, taken apart. */
export interface GitLocation {
  /** What git fetches: an `http(s)://` or `file://` URL, without credentials or fragment. */
  url: string;
  /** The repository as messages name it: the location's URL or path without credentials or fragment. */
  display: string;
  /** Branch, tag or full commit SHA after `#`; undefined for the default branch. */
  ref?: string;
  /** Whether `ref` is a full commit SHA (fetched by itself rather than as a branch). */
  refIsCommit: boolean;
  /** The context folder within the repository (after `:`); undefined for the repository root. */
  folder?: string;
  /** User name and password written into an HTTP URL (`https://user:token@host/repo.git`). */
  credentials?: { username: string; password: string };
}

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/** `#ref:folder` → ref and folder; `#:folder` keeps the default branch. */
function splitFragment(fragment: string, location: string): Pick<GitLocation, 'ref' | 'refIsCommit' | 'folder'> {
  const colon = fragment.indexOf(':');
  const ref = (colon < 0 ? fragment : fragment.slice(0, colon)) || undefined;
  const rawFolder = colon < 0 ? '' : fragment.slice(colon + 1);
  const folder = posix.normalize(rawFolder.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (folder === '..' || folder.startsWith('../')) {
    throw new ContextError(`the context folder "${rawFolder}" of ${redactLocation(location)} leads outside the repository`);
  }
  if (ref !== undefined && (ref.startsWith('-') || /[\s~^?*[\\]|\.\./.test(ref))) {
    throw new ContextError(`"${ref}" is not a valid branch, tag or commit`);
  }
  return { ref, refIsCommit: ref !== undefined && FULL_SHA.test(ref), folder: folder === '.' ? undefined : folder };
}

/**
 * Parses `https://host/repo.git#ref:folder`, `http://…`, `file:///srv/repo#ref:folder` or
 * `/srv/repo#ref:folder` (`#<sha>`, `#ref`, `#:folder` or no fragment also). Credentials in an
 * HTTP URL are moved to `credentials`, so they are neither passed to git nor shown in messages.
 */
export function parseGitLocation(location: string): GitLocation {
  const hash = location.indexOf('#');
  const base = hash < 0 ? location : location.slice(0, hash);
  const fragment = splitFragment(hash < 0 ? '' : location.slice(hash + 1), location);

  if (/^https?:\/\//i.test(base)) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new ContextError(`"${redactLocation(location)}" is not a valid URL`);
    }
    const credentials =
      url.username || url.password
        ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
        : undefined;
    url.username = '';
    url.password = '';
    return { url: url.href, display: url.href, ...fragment, ...(credentials ? { credentials } : {}) };
  }
  // git does not percent-decode file URLs, so paths are passed as written.
  if (/^file:\/\//i.test(base)) {
    if (!base.slice('file://'.length).startsWith('/')) {
      throw new ContextError(`"${location}" must name an absolute path (file:///path/to/repo)`);
    }
    return { url: 'file://' + base.slice('file://'.length), display: base, ...fragment };
  }
  if (base.startsWith('/')) {
    return { url: 'file://' + base, display: base, ...fragment };
  }
  throw new ContextError(`"${redactLocation(location)}" is not a git repository location`);
}

/** The local folder a `file://` URL or absolute path location names, before any fragment. */
export function localPathOf(location: string): string | undefined {
  const base = location.split('#', 1)[0] ?? '';
  if (/^file:\/\//i.test(base)) return base.slice('file://'.length);
  return base.startsWith('/') ? base : undefined;
}

/** A location fit for messages: credentials in a URL (`https://user:token@…`) removed. */
export function redactLocation(location: string): string {
  return location.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@#?]*@/i, '$1');
}
