/**
 * Build contexts: where a run's files come from, fetched onto the host before the executor
 * session opens. Locations (CONVENTIONS.md, Tasks):
 * - an uploaded archive (`berth build`/`berth run` of a local folder): `upload:<id>`;
 * - a git repository over HTTP(S) `https://host/repo.git#branch:folder` (with an access token),
 *   or on the server's filesystem `/srv/repo#main:folder` / `file:///srv/repo#main:folder`;
 * - a tarball URL `http(s)://host/x.tar.gz`;
 * - none (`/dev/null`).
 */

export interface FetchedContext {
  /** Host folder holding the context (the `#…:folder` part already applied). */
  dir: string | undefined;
  /** For git contexts: the commit fetched, and the branch. */
  commit?: string;
  branch?: string;
}

export interface ContextRequest {
  location: string | null;
  /** Git access token (clear text, already unsealed). */
  accessToken?: string;
  /** Folder to fetch into; created by the caller and removed by it afterwards. */
  into: string;
  signal: AbortSignal;
}

/** A context that cannot be fetched; `message` names the location (never the token) and the reason. */
export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

export interface ContextFetcher {
  fetch(request: ContextRequest): Promise<FetchedContext>;
}

/** Uploaded context archives (`berth build` of a local folder), kept until the run that uses them ends. */
export interface UploadedSources {
  /** Stores a gzip'd tar stream (at most `limitBytes`); returns the `upload:<id>` location. */
  save(archive: NodeJS.ReadableStream, limitBytes: number): Promise<string>;
  remove(location: string): Promise<void>;
}
