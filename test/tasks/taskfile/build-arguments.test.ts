import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandLineError, parseBuildArguments } from '../../../src/tasks/taskfile/index.ts';

describe('parseBuildArguments', () => {
  it('reads tags, Dockerfile and context with the defaults for the rest', () => {
    assert.deepEqual(parseBuildArguments('-t web:v1 --tag web:latest -f Dockerfile.test .'), {
      spec: {
        tags: ['web:v1', 'web:latest'],
        dockerfile: 'Dockerfile.test',
        buildArgs: [],
        noCache: false,
        pull: false,
        labels: [],
        context: '.',
      },
      warnings: [],
    });
  });

  it('defaults the Dockerfile to Dockerfile', () => {
    assert.equal(parseBuildArguments('-t a .').spec.dockerfile, 'Dockerfile');
  });

  it('reads build args with values, quoted values and = in values', () => {
    const { spec } = parseBuildArguments(`--build-arg A=1 --build-arg "B=two words" --build-arg=C=x=y .`);
    assert.deepEqual(spec.buildArgs, [['A', '1'], ['B', 'two words'], ['C', 'x=y']]);
  });

  it('takes a bare --build-arg from the environment, last entry winning', () => {
    const { spec, warnings } = parseBuildArguments('--build-arg TOKEN .', ['TOKEN=old', 'OTHER=1', 'TOKEN=new']);
    assert.deepEqual(spec.buildArgs, [['TOKEN', 'new']]);
    assert.deepEqual(warnings, []);
  });

  it('warns about a bare --build-arg with no value in the environment and leaves it out', () => {
    const { spec, warnings } = parseBuildArguments('--build-arg MISSING .');
    assert.deepEqual(spec.buildArgs, []);
    assert.match(warnings[0] ?? '', /'MISSING' has no value/);
  });

  it('reads target, platform, labels, --no-cache and --pull', () => {
    const { spec } = parseBuildArguments('--target final --platform linux/amd64 --label a=b --label c --no-cache --pull ctx');
    assert.equal(spec.target, 'final');
    assert.equal(spec.platform, 'linux/amd64');
    assert.deepEqual(spec.labels, [['a', 'b'], ['c', '']]);
    assert.equal(spec.noCache, true);
    assert.equal(spec.pull, true);
    assert.equal(spec.context, 'ctx');
  });

  it('accepts --flag=value, -tvalue and --switch=false forms', () => {
    const { spec } = parseBuildArguments('--tag=a:1 -tb:2 -f=Dockerfile.x --no-cache=false --pull=true .');
    assert.deepEqual(spec.tags, ['a:1', 'b:2']);
    assert.equal(spec.dockerfile, 'Dockerfile.x');
    assert.equal(spec.noCache, false);
    assert.equal(spec.pull, true);
  });

  it('reads a folded multi-line value (YAML `>`) with the context last', () => {
    const { spec } = parseBuildArguments('--build-arg REGISTRY_FROM_URL=reg/\n-f ./Dockerfile\n-t reg/node-import:test\n.\n');
    assert.deepEqual(spec.buildArgs, [['REGISTRY_FROM_URL', 'reg/']]);
    assert.equal(spec.dockerfile, './Dockerfile');
    assert.deepEqual(spec.tags, ['reg/node-import:test']);
    assert.equal(spec.context, '.');
  });

  it('keeps a git URL context as written', () => {
    const { spec } = parseBuildArguments('-t a https://example.com/r.git#main:app');
    assert.equal(spec.context, 'https://example.com/r.git#main:app');
  });

  it('warns about flags that take a value and are not honoured, consuming the value', () => {
    const { spec, warnings } = parseBuildArguments('--network host --cache-from x:1 -t a .');
    assert.equal(spec.context, '.');
    assert.deepEqual(spec.tags, ['a']);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /'--network host' is not supported/);
    assert.match(warnings[1] ?? '', /'--cache-from x:1' is not supported/);
  });

  it('warns about unknown flags and switches, and accepts --rm silently', () => {
    const { warnings } = parseBuildArguments('--rm --force-rm --squash --frobnicate=1 .');
    assert.deepEqual(warnings, [
      "build flag '--squash' is not supported here and is ignored",
      "unknown build flag '--frobnicate=1' is ignored",
    ]);
  });

  it('refuses a line without a context', () => {
    assert.throws(() => parseBuildArguments('-t a:1'), (error: unknown) => error instanceof CommandLineError && /context is missing/.test(error.message));
  });

  it('refuses two contexts, hinting at an unknown flag', () => {
    assert.throws(() => parseBuildArguments('--unknown value .'), /one context, found 'value', '\.'/);
  });

  it('refuses a flag without its value', () => {
    assert.throws(() => parseBuildArguments('. -t'), /'-t' needs a value/);
  });

  it('does not expand $VARIABLES (they belong to the build, not to Berth)', () => {
    assert.deepEqual(parseBuildArguments('--build-arg A=$HOME .').spec.buildArgs, [['A', '$HOME']]);
  });
});
