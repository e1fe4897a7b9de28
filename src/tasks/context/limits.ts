import { Transform, type TransformCallback } from 'node:stream';
import { ContextError } from './context-source.ts';

const MIB = 1024 * 1024;

/** The error of a context that exceeds `limitBytes` (uploaded, downloaded or extracted). */
export function contextTooLarge(limitBytes: number): ContextError {
  const mib = Number((limitBytes / MIB).toFixed(2));
  const limit = mib > 0 ? `${mib} MiB` : `${limitBytes} bytes`;
  return new ContextError(`the build context is over the ${limit} limit`);
}

/** A pass-through stream that fails with `contextTooLarge` as soon as more than `limitBytes` flow through it. */
export function byteLimit(limitBytes: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      total += chunk.length;
      if (total > limitBytes) {
        callback(contextTooLarge(limitBytes));
        return;
      }
      callback(null, chunk);
    },
  });
}

/** The error of a fetch that took longer than `timeoutMs`; `what` names it ("fetching https://…"). */
export function contextTimedOut(what: string, timeoutMs: number): ContextError {
  return new ContextError(`${what} timed out after ${Number((timeoutMs / 1000).toFixed(1))} s`);
}
