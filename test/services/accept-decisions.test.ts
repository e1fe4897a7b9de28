import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptsMediaType } from '../../src/oci/manifest.ts';
import { AcceptDecisions } from '../../src/services/accept-decisions.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

describe('AcceptDecisions', () => {
  const headers: (string | string[] | undefined)[] = [
    undefined,
    '',
    '*/*',
    OCI_MANIFEST,
    `${OCI_MANIFEST}, ${OCI_INDEX}`,
    `${OCI_INDEX};q=0, */*`,
    `application/*;q=0.5, ${DOCKER_MANIFEST};q=0`,
    [OCI_MANIFEST, DOCKER_MANIFEST],
    `${'x'.repeat(2000)}, ${OCI_MANIFEST}`,
  ];

  it('decides as acceptsMediaType does, asked once or many times', () => {
    const decisions = new AcceptDecisions();
    for (let round = 0; round < 3; round++) {
      for (const header of headers) {
        for (const type of [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST]) {
          assert.equal(decisions.accepts(header, type), acceptsMediaType(header, type), `${String(header)} / ${type}`);
        }
      }
    }
  });

  it('keeps deciding correctly past its bound on remembered headers', () => {
    const decisions = new AcceptDecisions();
    for (let i = 0; i < 1000; i++) {
      const header = i % 2 === 0 ? `${OCI_MANIFEST};q=0.${(i % 9) + 1}, x/${i}` : `x/${i}`;
      assert.equal(decisions.accepts(header, OCI_MANIFEST), i % 2 === 0);
    }
  });
});
