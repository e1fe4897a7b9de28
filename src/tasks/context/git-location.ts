import { posix } from 'node:path';
import { ContextError } from './context-source.ts';

/** A git context location, `<repository>[#<ref>][:<folder>]`, taken apart. */
export interface GitLocation {
  /** What git fetches: an `http(s)://`, `ssh://` or `file://` URL or an scp-like `user@host:path`, without credentials or fragment. */
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

/** `ssh://[user[:password]@]host[:port]/path`; a host or user starting with `-` is not accepted (git would read it as an option of ssh). */
const SSH_URL = /^ssh:\/\/(?:([A-Za-z0-9._][^@/:\s]*)(:[^@/]*)?@)?([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(\/.+)$/i;
/** git's scp-like form, `user@host:path`; the user part is required here, so other `word:rest` strings are not taken for it. */
const SCP_LIKE = /^[A-Za-z0-9._][A-Za-z0-9._-]*@(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):(?!\/\/)[^\s]+$/;

/** Whether a location (or a GitLocation's `url`) is fetched over ssh: an `ssh://` URL or the scp-like `user@host:path`. */
export function isSshLocation(location: string): boolean {
  const base = location.split('#', 1)[0] ?? '';
  return /^ssh:\/\//i.test(base) || SCP_LIKE.test(base);
}

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
 * Parses `https://host/repo.git#ref:folder`, `http://…`, `ssh://[user@]host[:port]/path/repo.git#ref:folder`,
 * `user@host:path/repo.git#ref:folder`, `file:///srv/repo#ref:folder` or `/srv/repo#ref:folder`
 * (`#<sha>`, `#ref`, `#:folder` or no fragment also). Credentials in an HTTP URL are moved to
 * `credentials`, so they are neither passed to git nor shown in messages; an ssh location takes
 * its private key as the access token, never a password in the URL.
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
  if (/^ssh:\/\//i.test(base)) {
    const match = SSH_URL.exec(base);
    if (!match) throw new ContextError(`"${redactLocation(location)}" is not a valid ssh URL (ssh://[user@]host[:port]/path/repo.git)`);
    if (match[2] !== undefined) {
      throw new ContextError(`${redactLocation(location)} holds a password: an ssh repository takes a private key as its git access token`);
    }
    // git does not percent-decode ssh URLs either, so the path is passed as written.
    return { url: base, display: base, ...fragment };
  }
  if (SCP_LIKE.test(base)) {
    return { url: base, display: base, ...fragment };
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
