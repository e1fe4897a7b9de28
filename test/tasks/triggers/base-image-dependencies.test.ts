/** Which base images a Dockerfile build starts FROM, as the base-image trigger records them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { baseImagesOf, normaliseImageReference } from '../../../src/tasks/triggers/base-image-dependencies.ts';

const lines = (...text: string[]) => `${text.join('\n')}\n`;
const names = (dockerfile: string, options?: Parameters<typeof baseImagesOf>[1]) =>
  baseImagesOf(dockerfile, options).map((image) => `${image.type} ${image.loginServer}/${image.repository}:${image.tag}`).sort();

describe('base images of a Dockerfile', () => {
  test('one stage: its FROM is the runtime base', () => {
    assert.deepEqual(names(lines('FROM contoso.localhost:5000/base:1', 'RUN true')), ['Runtime contoso.localhost:5000/base:1']);
  });

  test('ARGs before the first FROM are substituted with their defaults', () => {
    const dockerfile = lines('ARG REGISTRY=contoso.localhost:5000', 'ARG TAG=1', 'FROM ${REGISTRY}/base:$TAG');
    assert.deepEqual(names(dockerfile), ['Runtime contoso.localhost:5000/base:1']);
  });

  test('--build-arg overrides a declared ARG, and fills one without a default', () => {
    const dockerfile = lines('ARG REGISTRY=contoso.localhost:5000', 'ARG TAG', 'FROM ${REGISTRY}/node:${TAG:-15-alpine}');
    assert.deepEqual(names(dockerfile), ['Runtime contoso.localhost:5000/node:15-alpine']);
    assert.deepEqual(names(dockerfile, { buildArgs: [['REGISTRY', 'baseartifacts.localhost:5000'], ['TAG', '16']] }), ['Runtime baseartifacts.localhost:5000/node:16']);
  });

  test('a build arg for an ARG not declared before FROM does not reach FROM', () => {
    assert.deepEqual(names(lines('FROM ${REGISTRY}/base:1'), { buildArgs: [['REGISTRY', 'contoso.localhost:5000']] }), []);
  });

  test('multi-stage: the last stage is Runtime, the stages it uses are BuildTime, stage names are not images', () => {
    const dockerfile = lines(
      'FROM contoso.localhost:5000/sdk:1 AS base',
      'FROM base AS build',
      'RUN make',
      'FROM contoso.localhost:5000/unused:1 AS unused',
      'FROM contoso.localhost:5000/runtime:1',
      'COPY --from=build /out /app',
      'COPY --from=contoso.localhost:5000/tools:2 /bin/tool /bin/tool',
    );
    assert.deepEqual(names(dockerfile), [
      'BuildTime contoso.localhost:5000/sdk:1',
      'BuildTime contoso.localhost:5000/tools:2',
      'Runtime contoso.localhost:5000/runtime:1',
    ]);
  });

  test('--target: that stage is Runtime (followed through stage names), later stages are ignored', () => {
    const dockerfile = lines('FROM contoso.localhost:5000/sdk:1 AS base', 'FROM base AS test', 'RUN true', 'FROM contoso.localhost:5000/runtime:1');
    assert.deepEqual(names(dockerfile, { target: 'test' }), ['Runtime contoso.localhost:5000/sdk:1']);
    assert.deepEqual(names(dockerfile, { target: 'missing' }), []);
  });

  test('COPY --from a stage index counts as that stage', () => {
    const dockerfile = lines('FROM contoso.localhost:5000/sdk:1', 'RUN make', 'FROM scratch', 'COPY --from=0 /out /');
    assert.deepEqual(names(dockerfile), ['BuildTime contoso.localhost:5000/sdk:1']);
  });

  test('scratch and digest-pinned references are left out', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(names(lines(`FROM contoso.localhost:5000/base@${digest}`)), []);
    assert.deepEqual(names(lines(`FROM contoso.localhost:5000/base:1@${digest}`)), []);
    assert.deepEqual(names(lines('FROM scratch', 'COPY a /a')), []);
  });

  test('an image used as both runtime and build-time base is recorded once, as Runtime', () => {
    const dockerfile = lines('FROM contoso.localhost:5000/base:1 AS build', 'RUN make', 'FROM contoso.localhost:5000/base:1', 'COPY --from=build /out /');
    assert.deepEqual(names(dockerfile), ['Runtime contoso.localhost:5000/base:1']);
  });
});

describe('normalised image references', () => {
  test('Docker Hub: no registry means docker.io/library, no tag means latest', () => {
    assert.deepEqual(normaliseImageReference('node'), { loginServer: 'docker.io', repository: 'library/node', tag: 'latest' });
    assert.deepEqual(normaliseImageReference('node:15-alpine'), { loginServer: 'docker.io', repository: 'library/node', tag: '15-alpine' });
    assert.deepEqual(normaliseImageReference('bitnami/nginx'), { loginServer: 'docker.io', repository: 'bitnami/nginx', tag: 'latest' });
    assert.deepEqual(normaliseImageReference('index.docker.io/alpine:3'), { loginServer: 'docker.io', repository: 'library/alpine', tag: '3' });
  });

  test('a registry host is kept (lower case), with its port', () => {
    assert.deepEqual(normaliseImageReference('Contoso.localhost:5000/team/app'), { loginServer: 'contoso.localhost:5000', repository: 'team/app', tag: 'latest' });
    assert.deepEqual(normaliseImageReference('localhost/app:2'), { loginServer: 'localhost', repository: 'app', tag: '2' });
  });

  test('unresolved variables and invalid names are not references', () => {
    assert.equal(normaliseImageReference('${REGISTRY}/base:1'), undefined);
    assert.equal(normaliseImageReference('contoso.localhost/Upper:1'), undefined);
    assert.equal(normaliseImageReference(''), undefined);
  });
});
