/**
 * Packs a local build context folder (`berth build .`, `berth run .`) as a gzip-compressed tar,
 * streamed as it is read. `.dockerignore` is honoured with Docker's rules (`@balena/dockerignore`);
 * `.git` is left out unless a `!.git` rule brings it back. As `docker build` does, an excluded
 * directory is still walked when an exception (`!dir/file`) may re-include something inside it,
 * and the Dockerfile is sent even when it is excluded.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import dockerignore, { type Ignore } from '@balena/dockerignore';
import { Pack } from 'tar';
import { CliError } from './errors.ts';

export interface PackOptions {
  /** Paths within the folder sent even when `.dockerignore` excludes them (the Dockerfile, the task file). */
  alwaysInclude?: string[];
}

/** The package is CommonJS (`module.exports = factory`) while its types declare an ES default export. */
const ignore = dockerignore as unknown as typeof dockerignore.default;

/** Left out unless re-included, before the folder's own rules. */
const DEFAULT_RULES = ['.git'];

interface Rules {
  matcher: Ignore;
  /** Exception patterns (`!pattern`), normalised; they decide whether an excluded directory is walked. */
  exceptions: string[];
  keep: Set<string>;
}

function normalise(pattern: string): string {
  return path.posix.normalize(pattern.replace(/^\/+/, '')).replace(/\/+$/, '');
}

async function rulesOf(folder: string, alwaysInclude: string[]): Promise<Rules> {
  let text = '';
  try {
    text = await readFile(path.join(folder, '.dockerignore'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot read ${path.join(folder, '.dockerignore')}: ${(error as Error).message}`);
  }
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  return {
    matcher: ignore().add([...DEFAULT_RULES, ...lines]),
    exceptions: lines.filter((line) => line.startsWith('!')).map((line) => normalise(line.slice(1).trim())),
    keep: new Set(alwaysInclude.map(normalise)),
  };
}

/** Whether something inside the excluded directory `dir` may be re-included (Docker's test, plus wildcards). */
function mayReinclude(dir: string, rules: Rules): boolean {
  const prefix = `${dir}/`;
  return [...rules.exceptions, ...rules.keep].some((pattern) => /[*?[\\]/.test(pattern) || `${pattern}/`.startsWith(prefix));
}

/** The folder's paths to archive (relative, '/'-separated), directories before their contents, in name order. */
async function* contextEntries(folder: string, rules: Rules, dir = ''): AsyncGenerator<string> {
  const entries = await readdir(dir === '' ? folder : path.join(folder, dir), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
    const excluded = rules.matcher.ignores(relative) && !rules.keep.has(relative);
    if (!excluded) yield relative;
    // Symbolic links are archived as links, never followed.
    if (entry.isDirectory() && (!excluded || mayReinclude(relative, rules))) yield* contextEntries(folder, rules, relative);
  }
}

/** A gzip-compressed tar of `folder`, produced while it is read; a failure to read ends the stream with that error. */
export async function packContext(folder: string, options: PackOptions = {}): Promise<Readable> {
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) throw new CliError(`the build context ${folder} is not a folder`);
  const rules = await rulesOf(folder, options.alwaysInclude ?? []);
  const pack = new Pack({ cwd: folder, gzip: true, portable: true, noDirRecurse: true, strict: true });
  const archive = Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
  pack.on('error', (error: unknown) => {
    archive.destroy(error as Error);
  });
  (async () => {
    for await (const entry of contextEntries(folder, rules)) {
      if (archive.destroyed) return;
      pack.add(entry);
    }
    pack.end();
  })().catch((error: unknown) => {
    archive.destroy(new CliError(`cannot pack the build context ${folder}: ${(error as Error).message}`));
  });
  return archive;
}
