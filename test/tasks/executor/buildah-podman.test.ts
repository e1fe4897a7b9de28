import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BuildahPodmanExecutor } from '../../../src/tasks/executor/buildah-podman.ts';
import { StepError, type ContainerRequest, type ExecutorSession, type SessionSpec, type StepOutput } from '../../../src/tasks/executor/executor.ts';
import { OWNER, startTestBerth, type TestBerth } from '../../helper.ts';
import { makeTempDir, removeTempDir, run, startAll } from '../../helpers/exec.ts';
import { remoteManifest, skopeoCopy, testImages, type TestImages } from '../../helpers/images.ts';

/** Collects a step's output. */
class Collected implements StepOutput {
  text = '';
  write(chunk: string): void {
    this.text += chunk;
  }
}

function container(image: string, name: string, args: string[], extra: Partial<ContainerRequest> = {}): ContainerRequest {
  return { image, name, args, env: [], ports: [], detach: false, privileged: false, pull: false, volumes: [], ...extra };
}

const never = () => new AbortController().signal;

describe('BuildahPodmanExecutor against a real Berth', () => {
  let server: TestBerth | undefined;
  let images: TestImages;
  let root: string;
  let executor: BuildahPodmanExecutor;
  let registry: string;
  let port: number;
  let app: string;
  const sessions: ExecutorSession[] = [];

  const spec = (key: string, extra: Partial<SessionSpec> = {}): SessionSpec => ({
    key,
    contextDir: undefined,
    registries: [{ loginServer: registry, insecure: true, hostAddress: '127.0.0.1' }],
    credentials: [{ loginServer: registry, username: OWNER.username, password: OWNER.password }],
    ...extra,
  });
  const open = async (key: string, extra: Partial<SessionSpec> = {}) => {
    const session = await executor.open(spec(key, extra));
    sessions.push(session);
    return session;
  };
  /** A session with the built application image already pulled, so that step output is the container's alone. */
  const openWithApp = async (key: string) => {
    const session = await open(key);
    await session.pull(app, new Collected(), never());
    return session;
  };
  /** podman on a session's own storage and configuration, as the test's view from the outside. */
  const podmanOf = (dir: string, args: string[]) =>
    run('podman', args, {
      env: {
        CONTAINERS_CONF: join(dir, 'containers.conf'),
        CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
        CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
        REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
        TMPDIR: join(dir, 'tmp'),
      },
    });
  const sessionDir = (key: string) => join(root, 'runs', key);

  before(async () => {
    await startAll(
      startTestBerth().then((started) => (server = started)),
      testImages().then((built) => (images = built)),
      makeTempDir('berth-executor').then((dir) => (root = dir)),
    );
    port = Number(new URL(server!.url).port);
    const created = await server!.request('/mgmt/v1/registries', {
      method: 'POST',
      body: JSON.stringify({ name: 'contoso' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(created.status, 201);
    registry = `contoso.localhost:${port}`;
    await skopeoCopy(images.single.ref, `docker://${registry}/base:1`, ['--dest-creds', `${OWNER.username}:${OWNER.password}`]);
    executor = new BuildahPodmanExecutor({ root });
  });

  after(async () => {
    for (const session of sessions) await session.close().catch(() => undefined);
    await executor?.stopDetached('task-web').catch(() => undefined);
    await executor?.cleanUp().catch(() => undefined);
    if (root !== undefined) await removeTempDir(root);
    await server?.close();
  });

  test('builds FROM a Berth image with ARG, ENV and RUN, pushes it, and another session pulls and runs it', async () => {
    const context = await makeTempDir('berth-context');
    try {
      await writeFile(
        join(context, 'Dockerfile'),
        [
          `FROM ${registry}/base:1`,
          'ARG GREETING=unset',
          'ENV FROM_ENV=env-value',
          'RUN /bin/busybox --install -s /bin && echo "$GREETING" > /x',
          'CMD ["sh", "-c", "cat /x; echo $FROM_ENV"]',
          '',
        ].join('\n'),
      );
      const builder = await open('build-a', { contextDir: context });
      app = `${registry}/app:1`;
      const buildLog = new Collected();
      await builder.build(
        { context: '.', dockerfile: 'Dockerfile', tags: [app], buildArgs: [['GREETING', 'hello-from-arg']], noCache: false, pull: false, labels: [['org.example.step', 'build']], env: [] },
        buildLog,
        never(),
      );
      assert.match(buildLog.text, /STEP/);
      const pushed = await builder.push(app, new Collected(), never());
      assert.equal(pushed.digest, (await remoteManifest(app, `${OWNER.username}:${OWNER.password}`)).digest);
      const retagged = `${registry}/app:retagged`;
      await builder.tag(app, retagged);
      assert.match((await builder.push(retagged, new Collected(), never())).digest, /^sha256:[0-9a-f]{64}$/);
    } finally {
      await rm(context, { recursive: true, force: true });
    }

    const runner = await open('run-b');
    await runner.pull(app, new Collected(), never());
    const output = new Collected();
    const result = await runner.run(container(app, 'show', []), output, never());
    assert.deepEqual(result, { exitCode: 0 });
    assert.equal(output.text, 'hello-from-arg\nenv-value\n');
  });

  test('a non-zero exit is a result; env, entrypoint, user and working directory are honoured', async () => {
    const session = await openWithApp('options');
    assert.deepEqual(await session.run(container(app, 'fails', ['sh', '-c', 'echo before; exit 3']), new Collected(), never()), { exitCode: 3 });

    await mkdir(join(session.workDir, 'sub'));
    const output = new Collected();
    const result = await session.run(
      container(app, 'opts', ['-c', 'echo "$GREETING|$(id -u)|$(pwd)|$(hostname)"'], { entryPoint: 'sh', env: ['GREETING=hi there'], user: '65534', workingDirectory: 'sub' }),
      output,
      never(),
    );
    assert.equal(result.exitCode, 0);
    assert.equal(output.text, 'hi there|65534|/workspace/sub|opts\n');
  });

  test('/workspace is shared between the containers of a session and is the session working directory', async () => {
    const session = await openWithApp('shared');
    await session.run(container(app, 'writer', ['sh', '-c', 'echo shared-content > /workspace/note.txt']), new Collected(), never());
    const output = new Collected();
    await session.run(container(app, 'reader', ['cat', 'note.txt']), output, never());
    assert.equal(output.text, 'shared-content\n');
    assert.equal(await readFile(join(session.workDir, 'note.txt'), 'utf8'), 'shared-content\n');
  });

  test('a step container reaches Berth by its login-server name and cannot see the host files', async () => {
    const secretDir = await makeTempDir('berth-host-secret');
    const secretFile = join(secretDir, 'secret.txt');
    await writeFile(secretFile, 'host-only-secret\n');
    try {
      const session = await openWithApp('network');
      const probe = new Collected();
      const probed = await session.run(
        container(app, 'probe', ['sh', '-c', `printf 'GET /v2/ HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' | nc -w 3 contoso.localhost ${port} | head -1`]),
        probe,
        never(),
      );
      assert.equal(probed.exitCode, 0);
      assert.match(probe.text, /^HTTP\/1\.[01] (200|401)/);

      const peek = new Collected();
      const peeked = await session.run(container(app, 'peek', ['cat', secretFile]), peek, never());
      assert.notEqual(peeked.exitCode, 0);
      assert.doesNotMatch(peek.text, /host-only-secret/);
      await assert.rejects(
        session.build({ context: '../..', dockerfile: 'Dockerfile', tags: [], buildArgs: [], noCache: false, pull: false, labels: [], env: [] }, new Collected(), never()),
        (error: unknown) => error instanceof StepError && /outside the run's working directory/.test(error.message),
      );
    } finally {
      await rm(secretDir, { recursive: true, force: true });
    }
  });

  test('20 quick containers each deliver their whole output through the pipe', async () => {
    const session = await openWithApp('pipes');
    for (let index = 0; index < 20; index += 1) {
      const output = new Collected();
      const result = await session.run(container(app, `echo-${index}`, ['sh', '-c', `echo out-${index}-a; echo err-${index} >&2; echo out-${index}-b`]), output, never());
      assert.equal(result.exitCode, 0);
      assert.deepEqual(output.text.split('\n').sort(), ['', `err-${index}`, `out-${index}-a`, `out-${index}-b`]);
    }
  });

  test('a failing Dockerfile is a StepError; RUN for another platform is refused, a build without RUN is not', async () => {
    const session = await open('failing');
    await mkdir(join(session.workDir, 'bad'));
    await writeFile(join(session.workDir, 'bad', 'Dockerfile'), `FROM ${registry}/base:1\nRUN echo about to fail && false\n`);
    const log = new Collected();
    await assert.rejects(
      session.build({ context: 'bad', dockerfile: 'Dockerfile', tags: ['localhost/bad:1'], buildArgs: [], noCache: false, pull: false, labels: [], env: [] }, log, never()),
      (error: unknown) => error instanceof StepError && error.exitCode !== 0 && /^build failed with exit code \d+: /.test(error.message) && !error.message.includes('\n'),
    );
    assert.match(log.text, /about to fail/);

    const other = executor.hostPlatform === 'linux/arm64' ? 'linux/amd64' : 'linux/arm64';
    await assert.rejects(
      session.build({ context: 'bad', dockerfile: 'Dockerfile', tags: ['localhost/bad:2'], buildArgs: [], platform: other, noCache: false, pull: false, labels: [], env: [] }, new Collected(), never()),
      (error: unknown) => error instanceof StepError && error.message.includes(`cannot run RUN steps for ${other} on this ${executor.hostPlatform} host`),
    );

    await mkdir(join(session.workDir, 'copy-only'));
    await writeFile(join(session.workDir, 'copy-only', 'hello.txt'), 'hello\n');
    await writeFile(join(session.workDir, 'copy-only', 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    const foreign = `${registry}/foreign:1`;
    await session.build({ context: 'copy-only', dockerfile: 'Dockerfile', tags: [foreign], buildArgs: [], platform: other, noCache: false, pull: false, labels: [], env: [] }, new Collected(), never());
    await session.push(foreign, new Collected(), never());
    const { stdout } = await run('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', '--creds', `${OWNER.username}:${OWNER.password}`, `docker://${foreign}`]);
    assert.equal((JSON.parse(stdout) as { architecture: string }).architecture, other.split('/')[1]);
  });

  test('abort removes a long-running container, and stops a build, within seconds', async () => {
    const session = await openWithApp('abort');
    const controller = new AbortController();
    const output: StepOutput = { write: (chunk) => chunk.includes('ready') && controller.abort(new Error('cancelled by test')) };
    const started = Date.now();
    await assert.rejects(session.run(container(app, 'sleeper', ['sh', '-c', 'echo ready; sleep 60']), output, controller.signal), /cancelled by test/);
    assert.ok(Date.now() - started < 10_000, `abort took ${Date.now() - started} ms`);
    const { stdout } = await podmanOf(sessionDir('abort'), ['ps', '--all', '--quiet']);
    assert.equal(stdout.trim(), '');

    await writeFile(join(session.workDir, 'Dockerfile'), `FROM ${app}\nRUN echo building-slowly; sleep 61\n`);
    const building = new AbortController();
    const buildOutput: StepOutput = { write: (chunk) => chunk.includes('building-slowly') && building.abort(new Error('build cancelled by test')) };
    const buildStarted = Date.now();
    await assert.rejects(
      session.build({ context: '.', dockerfile: 'Dockerfile', tags: ['localhost/slow:1'], buildArgs: [], noCache: false, pull: false, labels: [], env: [] }, buildOutput, building.signal),
      /build cancelled by test/,
    );
    assert.ok(Date.now() - buildStarted < 10_000, `build abort took ${Date.now() - buildStarted} ms`);
    assert.doesNotMatch((await run('ps', ['-eo', 'stat,args'])).stdout, /^[^Z]\S*\s+sleep 61$/m);
  });

  test('close() leaves no directory, container, process or mount behind', async () => {
    const session = await openWithApp('closing');
    await session.run(container(app, 'background', ['sleep', '300'], { detach: true }), new Collected(), never());
    const dir = sessionDir('closing');
    assert.match((await podmanOf(dir, ['ps', '--quiet'])).stdout, /\S/);
    await session.close();
    await assert.rejects(stat(dir), { code: 'ENOENT' });
    assert.doesNotMatch(await readFile('/proc/self/mountinfo', 'utf8'), new RegExp(dir));
    const { stdout } = await run('ps', ['-eo', 'args']);
    assert.doesNotMatch(stdout, new RegExp(dir));
  });

  test('a detached container that outlives its run survives close(), replaces the previous one, and stopDetached stops it', async () => {
    const hostPort = await freePort();
    const startWeb = async (key: string, text: string) => {
      const session = await openWithApp(key);
      await mkdir(join(session.workDir, 'www'));
      await writeFile(join(session.workDir, 'www', 'index.html'), text);
      const result = await session.run(
        container(app, 'web', ['httpd', '-f', '-p', '8080', '-h', '/workspace/www'], { detach: true, ports: [`127.0.0.1:${hostPort}:8080`], outlivesRun: { owner: 'task-web' } }),
        new Collected(),
        never(),
      );
      assert.equal(result.exitCode, 0);
      await session.close();
    };
    await startWeb('web-1', 'first\n');
    assert.equal(await fetchText(hostPort), 'first\n');
    // the same port again: only possible because the first container was stopped
    await startWeb('web-2', 'second\n');
    assert.equal(await fetchText(hostPort), 'second\n');
    assert.equal(await executor.stopDetached('task-web'), 1);
    await assert.rejects(fetchText(hostPort, 1));
    assert.equal(await executor.stopDetached('task-web'), 0);
  });

  test('two sessions in parallel see neither the other’s containers nor its images', async () => {
    const [left, right] = await Promise.all([openWithApp('left'), openWithApp('right')]);
    await Promise.all([
      left.run(container(app, 'left-bg', ['sleep', '300'], { detach: true }), new Collected(), never()),
      right.run(container(app, 'right-bg', ['sleep', '300'], { detach: true }), new Collected(), never()),
      left.tag(app, 'localhost/left-only:1'),
    ]);
    const names = async (key: string) => (await podmanOf(sessionDir(key), ['ps', '--all', '--format', '{{.Names}}'])).stdout.trim();
    assert.equal(await names('left'), 'left-left-bg');
    assert.equal(await names('right'), 'right-right-bg');
    const rightImages = (await podmanOf(sessionDir('right'), ['images', '--format', '{{.Repository}}'])).stdout;
    assert.doesNotMatch(rightImages, /left-only/);
    await assert.rejects(right.tag('localhost/left-only:1', 'localhost/stolen:1'), StepError);
  });

  test('cleanUp() removes what an interrupted session left', async () => {
    await executor.open(spec('crashed')).then(async (session) => {
      await session.pull(app, new Collected(), never());
      await session.run(container(app, 'orphan', ['sleep', '300'], { detach: true }), new Collected(), never());
    });
    await executor.cleanUp();
    await assert.rejects(stat(sessionDir('crashed')), { code: 'ENOENT' });
    const { stdout } = await run('ps', ['-eo', 'args']);
    assert.doesNotMatch(stdout, new RegExp(sessionDir('crashed')));
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** GET / from a published port, retried briefly while the server in the container starts. */
async function fetchText(hostPort: number, attempts = 20): Promise<string> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const request = http.get({ host: '127.0.0.1', port: hostPort, path: '/index.html', timeout: 2_000 }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`status ${response.statusCode}`))));
        });
        request.on('timeout', () => request.destroy(new Error('timeout')));
        request.on('error', reject);
      });
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw lastError;
}
