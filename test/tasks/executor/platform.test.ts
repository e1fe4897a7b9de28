import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostPlatform, normalizePlatform, runsOnTargetPlatform } from '../../../src/tasks/executor/platform.ts';

const HOST = 'linux/amd64';

describe('platforms', () => {
  test('hostPlatform names this machine in OCI terms', () => {
    assert.match(hostPlatform(), /^linux\/(amd64|arm64|arm|386|ppc64le|s390x|riscv64)$/);
  });

  test('normalizePlatform resolves aliases and drops variants that add nothing', () => {
    assert.equal(normalizePlatform('linux/x86_64'), 'linux/amd64');
    assert.equal(normalizePlatform('Linux/AArch64'), 'linux/arm64');
    assert.equal(normalizePlatform('linux/arm64/v8'), 'linux/arm64');
    assert.equal(normalizePlatform('linux/arm/v7'), 'linux/arm/v7');
  });
});

describe('runsOnTargetPlatform', () => {
  test('a RUN in the built stage runs on the target platform', () => {
    assert.equal(runsOnTargetPlatform('FROM busybox\nRUN echo hi\n', undefined, HOST), true);
  });

  test('a Dockerfile without RUN does not, whatever its COPY and ENV lines say', () => {
    assert.equal(runsOnTargetPlatform('FROM scratch\nCOPY run /run\nENV RUN=1\n# RUN nothing\n', undefined, HOST), false);
  });

  test('a RUN continued over lines with the escape directive is still found', () => {
    assert.equal(runsOnTargetPlatform('# escape=`\nFROM busybox\nRUN echo `\n  hi\n', undefined, HOST), true);
  });

  test('stages the target does not need are ignored', () => {
    const dockerfile = 'FROM busybox AS tools\nRUN echo tools\nFROM scratch AS final\nCOPY a /a\nFROM tools AS debug\n';
    assert.equal(runsOnTargetPlatform(dockerfile, 'final', HOST), false);
    assert.equal(runsOnTargetPlatform(dockerfile, 'debug', HOST), true);
    assert.equal(runsOnTargetPlatform(dockerfile, undefined, HOST), true);
  });

  test('a stage copied from is needed', () => {
    assert.equal(runsOnTargetPlatform('FROM busybox AS b\nRUN make\nFROM scratch\nCOPY --from=b /out /out\n', undefined, HOST), true);
    assert.equal(runsOnTargetPlatform('FROM busybox\nRUN make\nFROM scratch\nCOPY --from=0 /out /out\n', undefined, HOST), true);
  });

  test('stages pinned to the build platform run natively, and so do stages built on them', () => {
    const crossBuild = 'FROM --platform=$BUILDPLATFORM busybox AS build\nRUN make\nFROM build AS more\nRUN make more\nFROM scratch\nCOPY --from=more /out /out\n';
    assert.equal(runsOnTargetPlatform(crossBuild, undefined, HOST), false);
    assert.equal(runsOnTargetPlatform('FROM --platform=linux/amd64 busybox AS b\nRUN make\nFROM scratch\nCOPY --from=b /o /o\n', undefined, HOST), false);
  });
});
