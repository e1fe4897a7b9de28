import { Readable, pipeline } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { extractArchive } from './archive.ts';
import { ContextError } from './context-source.ts';
import { byteLimit, contextTimedOut, contextTooLarge } from './limits.ts';

export interface TarballFetchOptions {
  into: string;
  limitBytes: number;
  signal: AbortSignal;
  timeoutMs: number;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Downloads a tar or tar.gz from an HTTP(S) URL and extracts it into `into`, streaming; at most
 * `limitBytes` are downloaded and at most `limitBytes` extracted. Credentials in the URL are sent as
 * Basic authorization and never shown.
 */
export async function fetchTarballContext(location: string, options: TarballFetchOptions): Promise<void> {
  const { into, limitBytes, signal, timeoutMs } = options;
  const url = new URL(location.split('#', 1)[0] ?? location);
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const display = url.href;
  const timeout = AbortSignal.timeout(timeoutMs);
  const stop = AbortSignal.any([signal, timeout]);
  const stopped = (error: unknown): unknown => {
    if (signal.aborted) return signal.reason;
    if (timeout.aborted) return contextTimedOut(`downloading ${display}`, timeoutMs);
    return error;
  };

  let response: Response;
  try {
    response = await fetch(url, { headers, signal: stop, redirect: 'follow' });
  } catch (error) {
    throw stopped(new ContextError(`cannot reach ${display}: ${causeOf(error)}`));
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => undefined);
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    throw new ContextError(`downloading ${display} failed: HTTP ${status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limitBytes) {
    await response.body.cancel().catch(() => undefined);
    throw contextTooLarge(limitBytes);
  }

  const body = Readable.fromWeb(response.body as ReadableStream<Uint8Array>);
  // Errors reach the returned stream, which the extraction listens to.
  const limited = pipeline(body, byteLimit(limitBytes), () => undefined);
  try {
    await extractArchive(limited, into, limitBytes, stop);
  } catch (error) {
    throw stopped(error);
  }
}
