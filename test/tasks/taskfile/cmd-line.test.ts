import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandLineError, parseCmd, parseCmdLine } from '../../../src/tasks/taskfile/index.ts';

const noRunOptions = { env: [], ports: [], detach: false, remove: false };

describe('parseCmd', () => {
  it('reads docker pull, tag and push', () => {
    assert.deepEqual(parseCmd('docker pull reg/node:15-alpine'), { type: 'pull', image: 'reg/node:15-alpine' });
    assert.deepEqual(parseCmd('docker tag a:1 b:2'), { type: 'tag', source: 'a:1', target: 'b:2' });
    assert.deepEqual(parseCmd('docker push b:2'), { type: 'push', image: 'b:2' });
  });

  it('reads the docker image and docker container forms', () => {
    assert.deepEqual(parseCmd('docker image pull -q a'), { type: 'pull', image: 'a' });
    assert.deepEqual(parseCmd('docker container run busybox'), { type: 'container', image: 'busybox', args: [], run: noRunOptions });
  });

  it('reads docker run flags up to the image and keeps everything after it as arguments', () => {
    const spec = parseCmd('docker run --rm -d -e A=1 --env B=2 -p 8080:80 --publish=9090:90 --entrypoint /bin/sh -u 1000 -w /src --name web busybox -c "echo -e hi"');
    assert.deepEqual(spec, {
      type: 'container',
      image: 'busybox',
      args: ['-c', 'echo -e hi'],
      run: {
        env: ['A=1', 'B=2'],
        ports: ['8080:80', '9090:90'],
        detach: true,
        entryPoint: '/bin/sh',
        user: '1000',
        workingDirectory: '/src',
        name: 'web',
        remove: true,
      },
    });
  });

  it('reads clusters of short flags and attached values', () => {
    const { spec, warnings } = parseCmdLine('docker run -dit -eA=1 -p80:80 busybox');
    assert.deepEqual(spec, { type: 'container', image: 'busybox', args: [], run: { env: ['A=1'], ports: ['80:80'], detach: true, remove: false } });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /--interactive' is ignored/);
  });

  it('warns about docker run flags that are accepted but not honoured', () => {
    const { warnings } = parseCmdLine('docker run --network host --privileged busybox');
    assert.match(warnings[0] ?? '', /--network host' is ignored: each step runs in its own network namespace/);
    assert.match(warnings[1] ?? '', /privileged' property/);
  });

  it('refuses docker run flags that would reach the host', () => {
    assert.throws(() => parseCmd('docker run -v /:/host busybox'), /--volume' is not supported here/);
    assert.throws(() => parseCmd('docker run --mount type=bind,src=/,dst=/h busybox'), /--mount' is not supported here/);
  });

  it('refuses unknown docker run flags', () => {
    assert.throws(() => parseCmd('docker run --cap-add ALL busybox'), (error: unknown) => error instanceof CommandLineError && /'--cap-add'/.test(error.message));
  });

  it('refuses docker subcommands it does not run, with a hint', () => {
    assert.throws(() => parseCmd('docker login -u a -p b reg'), /'docker login' is not supported.*credentials/);
    assert.throws(() => parseCmd('docker build .'), /'docker build' is not supported.*'build' step/);
    assert.throws(() => parseCmd('docker'), /needs a command/);
  });

  it('refuses docker pull, tag and push with the wrong number of images', () => {
    assert.throws(() => parseCmd('docker pull'), /docker pull IMAGE/);
    assert.throws(() => parseCmd('docker tag a'), /docker tag SOURCE TARGET/);
    assert.throws(() => parseCmd('docker push a b'), /docker push IMAGE/);
  });

  it('runs berth and acr lines on the host', () => {
    assert.deepEqual(parseCmd('berth repository list -r contoso'), { type: 'host', program: 'berth', args: ['repository', 'list', '-r', 'contoso'] });
    assert.deepEqual(parseCmd("acr purge --filter 'hello-world:.*' --untagged --ago 1d"), {
      type: 'host',
      program: 'acr',
      args: ['purge', '--filter', 'hello-world:.*', '--untagged', '--ago', '1d'],
    });
  });

  it("reads the root-CA seed's purge command, stray quote and all", () => {
    assert.deepEqual(parseCmd(`acr purge --filter 'YourApp:.*' --untagged --ago 0d"`), {
      type: 'host',
      program: 'acr',
      args: ['purge', '--filter', 'YourApp:.*', '--untagged', '--ago', '0d'],
    });
  });

  it('treats any other line as an image and its arguments', () => {
    assert.deepEqual(parseCmd('reg/web-test:ca1 --verbose "a b"'), {
      type: 'container',
      image: 'reg/web-test:ca1',
      args: ['--verbose', 'a b'],
      run: noRunOptions,
    });
  });

  it('keeps $VARIABLES and shell operators as literal words', () => {
    const spec = parseCmd(`busybox sh -c 'echo $HOME > /tmp/x' $X`);
    assert.deepEqual(spec.type === 'container' && spec.args, ['sh', '-c', 'echo $HOME > /tmp/x', '$X']);
  });

  it('refuses an empty line', () => {
    assert.throws(() => parseCmd('   '), /empty/);
  });
});
