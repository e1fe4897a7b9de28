import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isSshLocation, localPathOf } from './git-location.ts';
import { isUploadLocation } from './uploads.ts';

export type LocationKind = 'none' | 'upload' | 'git' | 'tarball' | 'unsupported';

const TARBALL = /\.(?:tar\.gz|tgz|tar)$/i;

async function exists(file: string, kind: 'file' | 'directory'): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  return kind === 'file' ? info?.isFile() === true : info?.isDirectory() === true;
}

/** Whether a folder on this machine holds a git repository (a work tree or a bare one). */
async function isGitRepository(folder: string): Promise<boolean> {
  if (await exists(path.join(folder, '.git'), 'directory')) return true;
  if (await exists(path.join(folder, '.git'), 'file')) return true;
  return (await exists(path.join(folder, 'HEAD'), 'file')) && (await exists(path.join(folder, 'objects'), 'directory'));
}

/**
 * What a context location names. Only what looks like git is git: an HTTP(S) URL whose path ends in
 * `.git`, an `ssh://` URL or scp-like `user@host:path`, a `file://` URL, or a path on this machine
 * holding a repository.
 */
export async function locationKind(location: string): Promise<LocationKind> {
  if (location === '/dev/null') return 'none';
  if (isUploadLocation(location)) return 'upload';
  if (/^https?:\/\//i.test(location)) {
    let pathname: string;
    try {
      pathname = new URL(location.split('#', 1)[0] ?? '').pathname.replace(/\/+$/, '');
    } catch {
      return 'unsupported';
    }
    if (pathname.endsWith('.git')) return 'git';
    return TARBALL.test(pathname) ? 'tarball' : 'unsupported';
  }
  if (/^file:\/\//i.test(location) || isSshLocation(location)) return 'git';
  const local = localPathOf(location);
  return local !== undefined && (await isGitRepository(local)) ? 'git' : 'unsupported';
}
