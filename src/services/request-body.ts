/**
 * An HTTP request body handed to an upload for good. Node copies each chunk of a body out of the
 * socket into a buffer of its own, so once a chunk is read nothing else holds it: the upload
 * frees each one as soon as it is written (`AppendOptions.freeWritten`) instead of leaving it to
 * the garbage collector.
 */
import type { AppendOptions } from '../store/blob-store.ts';

export class RequestBody implements AsyncIterable<Uint8Array> {
  constructor(private readonly chunks: AsyncIterable<Uint8Array>) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.chunks[Symbol.asyncIterator]();
  }
}

/** How an upload appends the chunks of `source`. */
export function appendOptionsFor(source: AsyncIterable<Uint8Array> | undefined): AppendOptions {
  return { freeWritten: source instanceof RequestBody };
}
