/**
 * A `detach: true` step with `ports` — the seeds' "deploy to a container instance" — keeps serving
 * after its run, is replaced by the next run of the same task, and `berth task stop-detached`
 * stops it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCliBerth, type CliBerth } from '../cli/cli-harness.ts';
import { freePort } from '../helpers/berth-process.ts';
import { startGitServer, type GitServer } from '../helpers/git-server.ts';
import { OWNER } from '../helper.ts';
import { skopeoCopy, testImages } from '../helpers/images.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('detached steps that outlive their run', () => {
  let cli: CliBerth;
  let git: GitServer;
  let port: number;

  /** The page the detached container serves, or undefined while nothing answers (bounded wait). */
  const page = async (expect: (body: string | undefined) => boolean): Promise<string | undefined> => {
    const deadline = Date.now() + 20_000;
    let body: string | undefined;
    do {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/index.html`, { signal: AbortSignal.timeout(2000) });
        body = response.ok ? (await response.text()).trim() : undefined;
      } catch {
        body = undefined;
      }
      if (expect(body)) return body;
      await sleep(200);
    } while (Date.now() < deadline);
    return body;
  };
  const runTask = async () => {
    const result = await cli.berth(['task', 'run', '-n', 'deployweb', '-r', 'contoso']);
    const match = /Queued a run with ID: (\w+)/.exec(result.stdout);
    assert.ok(match, result.stdout);
    return match[1]!;
  };

  before(async () => {
    cli = await startCliBerth();
    git = await startGitServer();
    port = await freePort();
    await cli.berth(['create', '-n', 'contoso']);
    const images = await testImages();
    await skopeoCopy(images.single.ref, `docker://${cli.loginServer('contoso')}/base:1`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);
    const repo = await git.createRepo('deploy', {
      'acr-task.yaml': [
        'version: v1.1.0',
        'steps:',
        '  - id: web',
        `    cmd: $Registry/base:1 sh -c "mkdir -p /srv && echo served by {{.Run.ID}} > /srv/index.html && exec httpd -f -p 8080 -h /srv"`,
        '    detach: true',
        `    ports: ["127.0.0.1:${port}:8080"]`,
        '',
      ].join('\n'),
    });
    await cli.berth(['task', 'create', '-n', 'deployweb', '-r', 'contoso', '-c', `${repo.path}#main`, '-f', 'acr-task.yaml']);
  });

  after(async () => {
    await cli?.berth(['task', 'stop-detached', '-n', 'deployweb', '-r', 'contoso'], { allowFailure: true });
    await git?.stop();
    await cli?.close();
  });

  test('the container keeps serving after the run, the next run replaces it, stop-detached stops it', async () => {
    const first = await runTask();
    assert.equal(await page((body) => body !== undefined), `served by ${first}`);

    const second = await runTask();
    assert.equal(await page((body) => body === `served by ${second}`), `served by ${second}`);

    const stopped = await cli.json<{ stopped: number } | number>(['task', 'stop-detached', '-n', 'deployweb', '-r', 'contoso', '-o', 'json']);
    assert.ok(typeof stopped === 'number' ? stopped >= 1 : stopped.stopped >= 1, JSON.stringify(stopped));
    assert.equal(await page((body) => body === undefined), undefined);
  });
});
