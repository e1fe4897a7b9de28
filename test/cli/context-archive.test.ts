import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar';
import { packContext, type PackOptions } from '../../src/cli/context-archive.ts';

/** Writes `files` (path → content) under a new temp folder. */
async function folderWith(root: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(root, 'context-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

/** The archive's entries: path → file content ('' for directories), as `tar` reads them. */
async function entriesOf(folder: string, options?: PackOptions): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const reader = tar.t({
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => entries.set(entry.path, entry.type === 'SymbolicLink' ? `-> ${entry.linkpath}` : Buffer.concat(chunks).toString()));
    },
  });
  await pipeline(await packContext(folder, options), reader);
  return entries;
}

describe('packContext: the build context as a streamed gzip tar honouring .dockerignore', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'berth-context-test-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('archives every file with its content, folders before their files, in name order', async () => {
    const folder = await folderWith(root, { Dockerfile: 'FROM busybox\n', 'src/app.sh': 'echo hi\n', 'src/lib/util.sh': 'true\n' });
    await symlink('src/app.sh', path.join(folder, 'run.sh'));
    const entries = await entriesOf(folder);
    assert.deepEqual([...entries.keys()], ['Dockerfile', 'run.sh', 'src/', 'src/app.sh', 'src/lib/', 'src/lib/util.sh']);
    assert.equal(entries.get('src/app.sh'), 'echo hi\n');
    assert.equal(entries.get('run.sh'), '-> src/app.sh', 'symbolic links stay links');
  });

  it('honours .dockerignore patterns, wildcards and exceptions, walking into excluded folders only when needed', async () => {
    const folder = await folderWith(root, {
      '.dockerignore': '# build output\n*.log\n**/*.tmp\n/build/\n!build/keep.txt\nnode_modules\ndocs/*.md\n!docs/README.md\n',
      Dockerfile: 'FROM busybox\n',
      'app.log': 'x',
      'sub/app.log': 'kept: *.log matches the top level only',
      'sub/deep/x.tmp': 'x',
      'build/out.bin': 'x',
      'build/keep.txt': 'keep',
      'node_modules/pkg/index.js': 'x',
      'docs/guide.md': 'x',
      'docs/README.md': 'readme',
    });
    const names = [...(await entriesOf(folder)).keys()];
    assert.deepEqual(names, ['.dockerignore', 'Dockerfile', 'build/keep.txt', 'docs/', 'docs/README.md', 'sub/', 'sub/app.log', 'sub/deep/']);
  });

  it('leaves .git out unless a !.git rule brings it back', async () => {
    const files = { Dockerfile: 'FROM busybox\n', '.git/HEAD': 'ref: refs/heads/main\n', '.git/objects/ab/cd': 'x', 'pkg/.git': 'gitdir: ../.git/modules/pkg\n' };
    const without = [...(await entriesOf(await folderWith(root, files))).keys()];
    assert.ok(!without.some((name) => name.startsWith('.git')), `no .git: ${without.join(', ')}`);
    assert.ok(without.includes('pkg/.git'), 'only the context root .git is excluded by default');

    const restored = await entriesOf(await folderWith(root, { ...files, '.dockerignore': '!.git\n' }));
    assert.equal(restored.get('.git/HEAD'), 'ref: refs/heads/main\n');
    assert.ok(restored.has('.git/objects/ab/cd'));
  });

  it('sends the Dockerfile even when .dockerignore excludes it', async () => {
    const folder = await folderWith(root, { '.dockerignore': '*\n', Dockerfile: 'FROM busybox\n', 'docker/Dockerfile.prod': 'FROM busybox\n', 'other.txt': 'x' });
    assert.deepEqual([...(await entriesOf(folder, { alwaysInclude: ['docker/Dockerfile.prod'] })).keys()], ['docker/Dockerfile.prod']);
  });

  it('streams: a large context arrives in many small chunks, never whole', async () => {
    const size = 24 * 1024 * 1024;
    const folder = await folderWith(root, { 'big.bin': randomBytes(size) });
    const archive = await packContext(folder);
    assert.ok(archive instanceof Readable);
    let chunks = 0;
    let largest = 0;
    let total = 0;
    for await (const chunk of archive) {
      chunks++;
      largest = Math.max(largest, (chunk as Buffer).length);
      total += (chunk as Buffer).length;
    }
    assert.ok(total > size, 'random bytes do not compress');
    assert.ok(chunks > 20, `${chunks} chunks`);
    assert.ok(largest <= 4 * 1024 * 1024, `the largest chunk is ${largest} bytes`);
  });

  it('refuses a context that is not a folder', async () => {
    await assert.rejects(packContext(path.join(root, 'missing')), /the build context .*missing is not a folder/);
    const folder = await folderWith(root, { 'file.txt': 'x' });
    await assert.rejects(packContext(path.join(folder, 'file.txt')), /is not a folder/);
  });
});
