/** Small helpers shared by the `/v2/` handlers for headers and query values. */
import type { FastifyRequest } from 'fastify';
import type { ContentRange } from '../services/uploads.ts';
import { RegistryError } from '../oci/errors.ts';

export function queryValue(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

export function queryValues(request: FastifyRequest, name: string): string[] {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** True when the request carries a body (a non-zero Content-Length or chunked transfer). */
export function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}

/** Parses an upload chunk's `Content-Range: <start>-<end>` (a `bytes ` prefix is tolerated). */
export function parseContentRange(header: string | undefined): ContentRange | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) throw new RegistryError('BLOB_UPLOAD_INVALID', `invalid Content-Range "${header}"`, { status: 416 });
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) throw new RegistryError('BLOB_UPLOAD_INVALID', `invalid Content-Range "${header}"`, { status: 416 });
  return { start, end };
}

/** A byte range of a `Range` request. */
export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/**
 * Parses a blob read's `Range: bytes=a-b | a- | -n` against the blob size. Returns undefined for
 * no header or several ranges (the whole blob is served); throws RANGE_INVALID when unsatisfiable.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) {
    if (header.includes(',')) return undefined;
    throw unsatisfiable(size, header);
  }
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) throw unsatisfiable(size, header);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || end < start) throw unsatisfiable(size, header);
  return { start, end };
}

function unsatisfiable(size: number, header: string): RegistryError {
  return new RegistryError('RANGE_INVALID', `range "${header}" is not satisfiable for a blob of ${size} bytes`, {
    headers: { 'Content-Range': `bytes */${size}` },
  });
}
