import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { entryRefusal } from '../../../src/tasks/context/archive.ts';
import { ContextError } from '../../../src/tasks/context/context-source.ts';
import { parseGitLocation, redactLocation } from '../../../src/tasks/context/git-location.ts';
import { locationKind } from '../../../src/tasks/context/location-kind.ts';
import { run } from '../../helpers/exec.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('parseGitLocation', () => {
  test('an HTTPS URL with branch and folder', () => {
    assert.deepEqual(parseGitLocation('https://git.example.com/team/app.git#main:src/web'), {
      url: 'https://git.example.com/team/app.git',
      display: 'https://git.example.com/team/app.git',
      ref: 'main',
      refIsCommit: false,
      folder: 'src/web',
    });
  });

  test('no fragment: the default branch and the repository root', () => {
    const location = parseGitLocation('http://127.0.0.1:8080/app.git');
    assert.equal(location.url, 'http://127.0.0.1:8080/app.git');
    assert.equal(location.ref, undefined);
    assert.equal(location.folder, undefined);
  });

  test('a branch only, a folder only, a commit SHA', () => {
    assert.equal(parseGitLocation('https://h/r.git#release/1.0').ref, 'release/1.0');
    const folderOnly = parseGitLocation('https://h/r.git#:docker/');
    assert.equal(folderOnly.ref, undefined);
    assert.equal(folderOnly.folder, 'docker');
    const commit = parseGitLocation(`https://h/r.git#${SHA}:app`);
    assert.equal(commit.ref, SHA);
    assert.equal(commit.refIsCommit, true);
    assert.equal(commit.folder, 'app');
    assert.equal(parseGitLocation('https://h/r.git#abc1234').refIsCommit, false);
  });

  test('credentials in the URL are taken out of the URL and the display', () => {
    const location = parseGitLocation('https://builder:s3cret-token@git.example.com/app.git#main');
    assert.deepEqual(location.credentials, { username: 'builder', password: 's3cret-token' });
    assert.equal(location.url, 'https://git.example.com/app.git');
    assert.equal(location.display, 'https://git.example.com/app.git');
  });

  test('local repositories: a path or a file URL', () => {
    assert.deepEqual(parseGitLocation('/srv/repo#main:folder'), {
      url: 'file:///srv/repo',
      display: '/srv/repo',
      ref: 'main',
      refIsCommit: false,
      folder: 'folder',
    });
    const fileUrl = parseGitLocation('file:///srv/my repo#v1.2:a/b');
    assert.equal(fileUrl.url, 'file:///srv/my repo');
    assert.equal(fileUrl.display, 'file:///srv/my repo');
    assert.equal(fileUrl.ref, 'v1.2');
    assert.equal(fileUrl.folder, 'a/b');
  });

  test('bad locations are ContextErrors that never show credentials', () => {
    assert.throws(() => parseGitLocation('https://h/r.git#main:../outside'), /leads outside the repository/);
    assert.throws(() => parseGitLocation('https://h/r.git#--upload-pack=x'), /not a valid branch/);
    assert.throws(() => parseGitLocation('file://host/repo'), /absolute path/);
    assert.throws(() => parseGitLocation('relative/repo#main'), ContextError);
    assert.throws(
      () => parseGitLocation('https://u:hidden-token@h/r.git#main:../x'),
      (error: Error) => error instanceof ContextError && !error.message.includes('hidden-token'),
    );
  });

  test('redactLocation removes URL credentials only', () => {
    assert.equal(redactLocation('https://u:tok@h/x.git#main'), 'https://h/x.git#main');
    assert.equal(redactLocation('https://h/x.git#main'), 'https://h/x.git#main');
    assert.equal(redactLocation('/srv/repo#main'), '/srv/repo#main');
  });
});

describe('locationKind', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'berth-kind-'));
    await run('git', ['init', '--quiet', path.join(work, 'worktree')]);
    await run('git', ['init', '--quiet', '--bare', path.join(work, 'bare.git')]);
    await mkdir(path.join(work, 'plain'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('each form of location', async () => {
    assert.equal(await locationKind('/dev/null'), 'none');
    assert.equal(await locationKind('upload:1b4e28ba-2fa1-11d2-883f-0016d3cca427'), 'upload');
    assert.equal(await locationKind('https://h/team/app.git#main:src'), 'git');
    assert.equal(await locationKind('http://h/app.git/'), 'git');
    assert.equal(await locationKind('file:///srv/repo#main'), 'git');
    assert.equal(await locationKind(`${work}/worktree#main:folder`), 'git');
    assert.equal(await locationKind(`${work}/bare.git`), 'git');
    assert.equal(await locationKind('https://h/files/context.tar.gz?sig=1'), 'tarball');
    assert.equal(await locationKind('http://h/context.tgz'), 'tarball');
    assert.equal(await locationKind('http://h/context.tar'), 'tarball');
    assert.equal(await locationKind('https://github.com/team/app'), 'unsupported');
    assert.equal(await locationKind(`${work}/plain`), 'unsupported');
    assert.equal(await locationKind(`${work}/missing#main`), 'unsupported');
    assert.equal(await locationKind('ssh://git@h/app.git'), 'git');
    assert.equal(await locationKind('oci://reg.example.com/repo:tag'), 'unsupported');
  });
});

describe('entryRefusal', () => {
  test('regular entries and links inside pass', () => {
    assert.equal(entryRefusal({ path: 'a/b.txt', type: 'File' }), undefined);
    assert.equal(entryRefusal({ path: './a/', type: 'Directory' }), undefined);
    assert.equal(entryRefusal({ path: 'a/b/link', type: 'SymbolicLink', linkpath: '../c' }), undefined);
    assert.equal(entryRefusal({ path: 'a/hard', type: 'Link', linkpath: 'a/b.txt' }), undefined);
  });

  test('escapes and special files are refused', () => {
    assert.match(entryRefusal({ path: 'a/../../x', type: 'File' }) ?? '', /leads outside/);
    assert.match(entryRefusal({ path: '/x', type: 'Directory' }) ?? '', /absolute path/);
    assert.match(entryRefusal({ path: 'a/link', type: 'SymbolicLink', linkpath: '../../x' }) ?? '', /points outside/);
    assert.match(entryRefusal({ path: 'disk', type: 'BlockDevice' }) ?? '', /special files/);
  });
});
