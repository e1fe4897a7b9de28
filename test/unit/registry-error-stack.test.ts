import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/oci/errors.ts';

describe('RegistryError without a stack trace', () => {
  it('captures no stack, and leaves the stack trace limit as it was', () => {
    const limit = Error.stackTraceLimit;
    const error = new RegistryError('BLOB_UNKNOWN', 'blob sha256:00 is not known to this repository');
    assert.equal(error.stack, 'RegistryError: blob sha256:00 is not known to this repository');
    assert.equal(Error.stackTraceLimit, limit);
    assert.ok(new Error('other').stack!.split('\n').length > 1, 'other errors keep their stacks');
  });

  it('answers with the same error JSON', () => {
    const error = new RegistryError('DIGEST_INVALID', undefined, { detail: { expected: 'a', actual: 'b' } });
    assert.deepEqual(error.toJSON(), {
      errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content', detail: { expected: 'a', actual: 'b' } }],
    });
  });
});
