/**
 * A git repository on local disk, made with the `git` CLI, standing in for a hosted one: a task's
 * source context as `<dir>#main`, and commits to it as a push would bring.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class GitRepo {
  private constructor(readonly dir: string) {}

  /** Creates `dir` as a repository on branch `main` with one commit of `files` (path → text). */
  static async create(dir: string, files: Record<string, string>): Promise<GitRepo> {
    await mkdir(dir, { recursive: true });
    const repo = new GitRepo(dir);
    await repo.git('init', '-q', '-b', 'main');
    await repo.commit(files, 'initial commit');
    return repo;
  }

  /** The task context following branch `main`. */
  get context(): string {
    return `${this.dir}#main`;
  }

  /** Writes `files` and commits them; returns the new commit's id. */
  async commit(files: Record<string, string>, message: string): Promise<string> {
    for (const [path, text] of Object.entries(files)) await writeFile(join(this.dir, path), text);
    await this.git('add', '--all');
    await this.git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', message);
    return (await this.git('rev-parse', 'HEAD')).trim();
  }

  private async git(...args: string[]): Promise<string> {
    return (await run('git', ['-C', this.dir, ...args], { timeout: 30_000 })).stdout;
  }
}
