import { extractArchive } from './archive.ts';
import { ContextError, type ContextFetcher, type ContextRequest, type FetchedContext } from './context-source.ts';
import { fetchGitContext } from './git-context.ts';
import { parseGitLocation, redactLocation } from './git-location.ts';
import { locationKind } from './location-kind.ts';
import { fetchTarballContext } from './tarball.ts';
import type { UploadedSourceStore } from './uploads.ts';

export interface ContextFetcherOptions {
  uploads: UploadedSourceStore;
  /** Most bytes a context may hold, uploaded, downloaded or extracted. */
  maxContextBytes: number;
  /** The git program; default `git` from the PATH. */
  git?: string;
  /** Longest a git clone may take; default 10 minutes. */
  gitTimeoutMs?: number;
  /** Longest a tarball download and extraction may take; default 10 minutes. */
  downloadTimeoutMs?: number;
  /** Where the host keys of ssh git servers are remembered once first seen. */
  sshKnownHostsFile?: string;
}

const TEN_MINUTES_MS = 10 * 60 * 1000;

/** Fetches a run's context from an upload, a git repository or a tarball URL (CONVENTIONS.md, Tasks). */
export class DefaultContextFetcher implements ContextFetcher {
  constructor(private readonly options: ContextFetcherOptions) {}

  async fetch(request: ContextRequest): Promise<FetchedContext> {
    const { location, into, signal } = request;
    const limitBytes = this.options.maxContextBytes;
    if (location === null) return { dir: undefined };
    switch (await locationKind(location)) {
      case 'none':
        return { dir: undefined };
      case 'upload': {
        const archive = await this.options.uploads.open(location);
        await extractArchive(archive, into, limitBytes, signal);
        return { dir: into };
      }
      case 'git':
        return fetchGitContext(parseGitLocation(location), {
          git: this.options.git ?? 'git',
          into,
          accessToken: request.accessToken,
          signal,
          timeoutMs: this.options.gitTimeoutMs ?? TEN_MINUTES_MS,
          ...(this.options.sshKnownHostsFile !== undefined ? { knownHostsFile: this.options.sshKnownHostsFile } : {}),
        });
      case 'tarball':
        await fetchTarballContext(location, {
          into,
          limitBytes,
          signal,
          timeoutMs: this.options.downloadTimeoutMs ?? TEN_MINUTES_MS,
        });
        return { dir: into };
      case 'unsupported':
        throw new ContextError(
          `unsupported context location "${redactLocation(location)}": use a git URL ending in .git ` +
            '(https://host/repo.git#branch:folder or ssh://git@host/repo.git#branch:folder), a git repository on the server (/srv/repo#branch:folder or ' +
            'file:///srv/repo#branch:folder), a tarball URL (http(s)://host/context.tar.gz) or /dev/null',
        );
    }
  }
}
