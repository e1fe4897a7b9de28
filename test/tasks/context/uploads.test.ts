import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ContextError } from '../../../src/tasks/context/context-source.ts';
import { DefaultContextFetcher } from '../../../src/tasks/context/fetcher.ts';
import { UploadedSourceStore } from '../../../src/tasks/context/uploads.ts';
import { makeFolder, packFolder, rawTarGz, type RawEntry } from './archives.ts';

const MIB = 1024 * 1024;

describe('uploaded contexts', () => {
  let work: string;
  let store: UploadedSourceStore;
  let fetcher: DefaultContextFetcher;
  let intoCount = 0;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'berth-uploads-'));
    store = new UploadedSourceStore(path.join(work, 'tasks', 'sources'));
    fetcher = new DefaultContextFetcher({ uploads: store, maxContextBytes: MIB });
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function newInto(): Promise<string> {
    const into = path.join(work, `into-${++intoCount}`, 'context');
    await mkdir(into, { recursive: true });
    return into;
  }

  async function uploadAndFetch(entries: RawEntry[]): Promise<{ into: string; error: unknown }> {
    const location = await store.save(Readable.from([rawTarGz(entries)]), 10 * MIB);
    const into = await newInto();
    const error = await fetcher.fetch({ location, into, signal: new AbortController().signal }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    return { into, error };
  }

  test('an uploaded folder comes back whole, symbolic links as links', async () => {
    const source = await makeFolder(
      { Dockerfile: 'FROM busybox\nCOPY . /app\n', 'src/app.sh': 'echo hello\n', 'src/deep/data.txt': 'data' },
      { 'latest.sh': 'src/app.sh' },
    );
    const location = await store.save(packFolder(source), 10 * MIB);
    assert.match(location, /^upload:[0-9a-f-]{36}$/);
    assert.deepEqual(await readdir(store.folder), [`${location.slice('upload:'.length)}.tar.gz`]);

    const into = await newInto();
    const fetched = await fetcher.fetch({ location, into, signal: new AbortController().signal });
    assert.deepEqual(fetched, { dir: into });
    assert.equal(await readFile(path.join(into, 'Dockerfile'), 'utf8'), 'FROM busybox\nCOPY . /app\n');
    assert.equal(await readFile(path.join(into, 'src/deep/data.txt'), 'utf8'), 'data');
    assert.equal(await readlink(path.join(into, 'latest.sh')), 'src/app.sh');

    await store.remove(location);
    assert.deepEqual(await readdir(store.folder), []);
    await assert.rejects(
      fetcher.fetch({ location, into: await newInto(), signal: new AbortController().signal }),
      (error: Error) => error instanceof ContextError && /does not exist/.test(error.message),
    );
    await rm(source, { recursive: true, force: true });
  });

  test('an upload over the limit is refused as soon as it passes it, and nothing is kept', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 256 * 1024;
        this.push(produced > 64 * MIB ? null : randomBytes(256 * 1024));
      },
    });
    await assert.rejects(store.save(endless, MIB), (error: Error) => {
      assert.ok(error instanceof ContextError);
      assert.equal(error.message, 'the build context is over the 1 MiB limit');
      return true;
    });
    assert.ok(produced < 4 * MIB, `read ${produced} bytes before refusing`);
    assert.deepEqual(await readdir(store.folder), []);
  });

  test('an archive whose content is over the limit once extracted is refused', async () => {
    const { error } = await uploadAndFetch([{ path: 'big.bin', body: randomBytes(MIB + 1) }]);
    assert.ok(error instanceof ContextError);
    assert.equal(error.message, 'the build context is over the 1 MiB limit');
  });

  test('a highly compressible file within the limit is extracted', async () => {
    const roomy = new DefaultContextFetcher({ uploads: store, maxContextBytes: 32 * MIB });
    const location = await store.save(Readable.from([rawTarGz([{ path: 'zeros.bin', body: Buffer.alloc(20 * MIB) }])]), MIB);
    const into = await newInto();
    await roomy.fetch({ location, into, signal: new AbortController().signal });
    assert.equal((await stat(path.join(into, 'zeros.bin'))).size, 20 * MIB);
  });

  test('an entry leading out with ".." is refused and nothing lands outside', async () => {
    const { into, error } = await uploadAndFetch([
      { path: 'ok.txt', body: 'fine' },
      { path: '../evil', body: 'gotcha' },
    ]);
    assert.ok(error instanceof ContextError);
    assert.match(error.message, /the entry "\.\.\/evil" leads outside the context/);
    await assert.rejects(stat(path.join(path.dirname(into), 'evil')), { code: 'ENOENT' });
  });

  test('absolute paths, devices and links pointing outside are refused', async () => {
    const cases: [RawEntry[], RegExp][] = [
      [[{ path: '/tmp/evil', body: 'x' }], /"\/tmp\/evil" has an absolute path/],
      [[{ path: 'tty', type: 'CharacterDevice' }], /"tty" is a CharacterDevice/],
      [[{ path: 'pipe', type: 'FIFO' }], /"pipe" is a FIFO/],
      [[{ path: 'etc', type: 'SymbolicLink', linkpath: '../../etc' }], /symbolic link "etc" points outside the context/],
      [[{ path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }], /points to the absolute path "\/etc\/passwd"/],
      [[{ path: 'hard', type: 'Link', linkpath: '../x' }], /hard link "hard" points outside/],
    ];
    for (const [entries, message] of cases) {
      const { error } = await uploadAndFetch(entries);
      assert.ok(error instanceof ContextError, `${entries[0]?.path}: ${String(error)}`);
      assert.match(error.message, message);
    }
  });

  test('a symbolic link inside the context is never followed while extracting', async () => {
    const { into, error } = await uploadAndFetch([
      { path: 'real', type: 'Directory' },
      { path: 'alias', type: 'SymbolicLink', linkpath: 'real' },
      { path: 'alias/file.txt', body: 'through the link' },
    ]);
    assert.ok(error instanceof ContextError, String(error));
    assert.match(error.message, /symbolic link/i);
    await assert.rejects(stat(path.join(into, 'real', 'file.txt')), { code: 'ENOENT' });
  });

  test('something that is not an archive is refused clearly', async () => {
    const location = await store.save(Readable.from([Buffer.from('this is not a tarball at all')]), MIB);
    await assert.rejects(
      fetcher.fetch({ location, into: await newInto(), signal: new AbortController().signal }),
      (error: Error) => error instanceof ContextError && /cannot be extracted/.test(error.message),
    );
  });

  test('a location that is not an upload id is refused', async () => {
    await assert.rejects(store.open('upload:../../etc/passwd'), ContextError);
    await assert.rejects(store.remove('upload:not-an-id'), ContextError);
  });

  test('the sweep removes archives older than the given age only', async () => {
    const folder = await mkdtemp(path.join(work, 'sweep-'));
    const sweeper = new UploadedSourceStore(folder);
    const old = await sweeper.save(Readable.from([Buffer.from('old')]), MIB);
    const fresh = await sweeper.save(Readable.from([Buffer.from('fresh')]), MIB);
    const threeHoursAgo = new Date(Date.now() - 3 * 3600_000);
    await utimes(path.join(folder, `${old.slice('upload:'.length)}.tar.gz`), threeHoursAgo, threeHoursAgo);

    assert.equal(await sweeper.sweep(2 * 3600_000), 1);
    assert.deepEqual(await readdir(folder), [`${fresh.slice('upload:'.length)}.tar.gz`]);
    assert.equal(await new UploadedSourceStore(path.join(work, 'never-created')).sweep(0), 0);
  });
});
