/**
 * A source registry reached over HTTP with the Distribution API, through an outbound pipeline
 * that answers auth challenges. Manifests are read whole (they are small, and bounded); blobs flow
 * from the response into the sink chunk by chunk, with a stall limit between chunks.
 */
import { createHash } from 'node:crypto';
import { isDigestAlgorithm } from '../oci/digest.ts';
import { MAX_MANIFEST_BYTES } from '../oci/manifest.ts';
import { essenceOf, manifestMediaTypes } from '../oci/media-types.ts';
import { OutboundError, createRequest, discardBody, readTextPrefix, type OutboundPipeline, type OutboundResponse } from '../outbound/pipeline.ts';
import { answerChallenge } from '../outbound/registry-challenge.ts';
import { parseChallenges } from '../outbound/www-authenticate.ts';
import { ImportError, type BlobSink, type FetchedManifest, type SourceReader } from './source-reader.ts';

/** Every manifest type Berth stores, so a source never converts one for us. */
const MANIFEST_ACCEPT = manifestMediaTypes.join(', ');

export interface RemoteSourceOptions {
  /** `http(s)://host[:port]` of the source registry. */
  baseUrl: URL;
  repository: string;
  /** Whether credentials were given (for the wording of a refusal). */
  withCredentials: boolean;
  /** A blob download that delivers no byte for this long is abandoned. */
  stallTimeoutMs: number;
  /** Cancels every request (the server is shutting down). */
  signal?: AbortSignal;
}

export class RemoteSource implements SourceReader {
  readonly description: string;

  constructor(
    private readonly pipeline: OutboundPipeline,
    private readonly options: RemoteSourceOptions,
  ) {
    this.description = `${options.baseUrl.host}/${options.repository}`;
  }

  async manifest(reference: string): Promise<FetchedManifest> {
    // A manifest is small: the whole answer must arrive within the stall limit.
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(), this.options.stallTimeoutMs);
    let content: Buffer;
    let response: OutboundResponse;
    try {
      response = await this.get(`manifests/${reference}`, { accept: MANIFEST_ACCEPT }, limit.signal);
      if (response.status !== 200) throw await this.failure(response, `manifest ${reference}`);
      const declared = Number(response.headers.get('content-length'));
      if (declared > MAX_MANIFEST_BYTES) {
        await discardBody(response);
        throw new ImportError(`${this.description}: manifest ${reference} is larger than ${MAX_MANIFEST_BYTES} bytes`);
      }
      content = await readManifestBody(response, `${this.description}: manifest ${reference}`);
    } catch (error) {
      if (!limit.signal.aborted || this.options.signal?.aborted) throw error;
      throw new ImportError(`${this.description}: manifest ${reference}: no complete answer within ${this.options.stallTimeoutMs / 1000} s`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    const algorithm = reference.includes(':') ? reference.slice(0, reference.indexOf(':')) : 'sha256';
    const digest = `${algorithm}:${createHash(isDigestAlgorithm(algorithm) ? algorithm : 'sha256').update(content).digest('hex')}`;
    if (reference.includes(':') && digest !== reference) {
      throw new ImportError(`${this.description}: the source sent a manifest whose digest is ${digest}, not ${reference}`);
    }
    const announced = response.headers.get('docker-content-digest');
    if (announced && announced.startsWith(`${algorithm}:`) && announced !== digest) {
      throw new ImportError(`${this.description}: manifest ${reference} is announced as ${announced} but its content has digest ${digest}`);
    }
    return { digest, mediaType: essenceOf(response.headers.get('content-type') ?? undefined), content };
  }

  async deliverBlob(blob: { digest: string; size: number }, sink: BlobSink): Promise<'copied'> {
    const stall = new AbortController();
    const response = await this.get(`blobs/${blob.digest}`, {}, stall.signal);
    if (response.status !== 200) throw await this.failure(response, `blob ${blob.digest}`);
    await sink.write(blob.digest, blob.size, withStallLimit(response, stall, this.options.stallTimeoutMs, `${this.description}: blob ${blob.digest}`));
    return 'copied';
  }

  private async get(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<OutboundResponse> {
    const url = new URL(`/v2/${this.options.repository}/${path}`, this.options.baseUrl).toString();
    const signals = [signal, this.options.signal].filter((each): each is AbortSignal => each !== undefined);
    try {
      return await this.pipeline.send(createRequest({ url, headers, ...(signals.length > 0 && { signal: AbortSignal.any(signals) }) }));
    } catch (error) {
      if (error instanceof OutboundError) throw new ImportError(`cannot reach the source registry ${this.options.baseUrl.host}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /** The error for a non-200 answer, in the source's own words where it gave some. */
  private async failure(response: OutboundResponse, what: string): Promise<ImportError> {
    const said = describeErrorBody(await readTextPrefix(response, 16 * 1024));
    const status = `${response.status}${said ? ` ${said}` : ''}`;
    if (response.status === 401) {
      const answer = answerChallenge(parseChallenges(response.headers.get('www-authenticate')), undefined);
      const why = this.options.withCredentials
        ? 'the source registry refused the user name and password'
        : answer.kind === 'refuse'
          ? answer.reason
          : 'the source registry requires a user name and password';
      return new ImportError(`${this.description}: ${what}: ${why} (${status})`);
    }
    if (response.status === 403) return new ImportError(`${this.description}: ${what}: access denied by the source registry (${status})`);
    if (response.status === 404) return new ImportError(`${this.description}: ${what} is missing at the source (${status})`);
    return new ImportError(`${this.description}: ${what}: the source registry answered ${status}`);
  }
}

/** `{"errors":[{"code":"BLOB_UNKNOWN","message":"..."}]}` → `BLOB_UNKNOWN: ...`; other bodies are not quoted. */
function describeErrorBody(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = body.errors?.[0];
    if (!first) return '';
    return [first.code, first.message].filter((part) => typeof part === 'string' && part !== '').join(': ');
  } catch {
    return '';
  }
}

async function readManifestBody(response: OutboundResponse, what: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (!response.body) return Buffer.alloc(0);
  for await (const chunk of response.body) {
    total += chunk.length;
    // Leaving the loop by a throw cancels the rest of the body.
    if (total > MAX_MANIFEST_BYTES) throw new ImportError(`${what} is larger than ${MAX_MANIFEST_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The response body, aborted when no chunk arrives for `stallMs`. */
async function* withStallLimit(response: OutboundResponse, stall: AbortController, stallMs: number, what: string): AsyncIterable<Uint8Array> {
  if (!response.body) return;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(new OutboundError('timeout', `${what}: no data for ${stallMs / 1000} s`)), stallMs);
  };
  arm();
  try {
    for await (const chunk of response.body) {
      arm();
      yield chunk;
    }
  } catch (error) {
    if (stall.signal.aborted) throw stall.signal.reason;
    throw new OutboundError('network', `${what}: the download broke off (${(error as Error).message})`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
