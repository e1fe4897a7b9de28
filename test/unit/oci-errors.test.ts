import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError, errorCodes, type ErrorCode } from '../../src/oci/errors.ts';

describe('OCI error codes', () => {
  const codes = Object.keys(errorCodes) as ErrorCode[];

  it('gives every code a 4xx status and a message', () => {
    assert.ok(codes.length > 0);
    for (const code of codes) {
      const { status, message } = errorCodes[code];
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 499, `${code} has status ${status}`);
      assert.ok(message.length > 0, `${code} has no message`);
    }
  });

  it('includes the codes of the distribution spec', () => {
    for (const code of [
      'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN',
      'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID', 'UNAUTHORIZED',
      'DENIED', 'UNSUPPORTED', 'TOOMANYREQUESTS',
    ]) {
      assert.ok(code in errorCodes, code);
    }
  });

  it('builds each code with its default status and message', () => {
    for (const code of codes) {
      const error = new RegistryError(code);
      assert.equal(error.code, code);
      assert.equal(error.status, errorCodes[code].status);
      assert.equal(error.message, errorCodes[code].message);
      assert.ok(error instanceof Error);
    }
  });

  it('serialises to the spec shape {"errors":[{code,message,detail}]}', () => {
    const plain = new RegistryError('BLOB_UNKNOWN');
    assert.deepEqual(JSON.parse(JSON.stringify(plain)), {
      errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: null }],
    });
    const detailed = new RegistryError('NAME_INVALID', 'invalid repository name "A"', { detail: { name: 'A' } });
    assert.deepEqual(detailed.toJSON(), {
      errors: [{ code: 'NAME_INVALID', message: 'invalid repository name "A"', detail: { name: 'A' } }],
    });
  });

  it('lets a thrower override the status and add headers', () => {
    const error = new RegistryError('BLOB_UPLOAD_INVALID', 'out of order', { status: 416, headers: { Range: '0-9' } });
    assert.equal(error.status, 416);
    assert.deepEqual(error.headers, { Range: '0-9' });
    assert.deepEqual(new RegistryError('DENIED').headers, {});
  });
});
