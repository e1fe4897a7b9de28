/**
 * Blob upload sessions: open, append chunks in order, finish under a verified digest, cancel,
 * mount from another repository, and monolithic pushes.
 *
 * Opening a session stores nothing: its id is a time-ordered UUID (version 7, so it carries the
 * time it was opened) followed by a keyed MAC of registry, repository and UUID, so any node can
 * tell a session it issued from a forged one, and a session of one repository is unknown to every
 * other. A session's bytes go to the blob store with its first chunk; until then it is open
 * without bytes for the TTL after it was opened, unless it ended meanwhile: finishing and
 * cancelling record the id as ended in the metadata store, remembered until that TTL is over.
 * A session with bytes is known by them; sessions untouched for the TTL are reclaimed.
 *
 * The sha256 state of an open session is kept in memory while bytes flow; after a restart (or
 * any doubt) it is rebuilt from the stored bytes, so a session survives a restart.
 *
 * A finished upload is published, linked, then committed (see `publishAndLink`), so that a
 * garbage collection running at the same time can never leave the link without its bytes. A small
 * one is linked with its bytes instead (see `inline-blobs.ts`); when a single request carries the
 * whole of it, its bytes never touch the blob store.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { v7 as uuidV7 } from 'uuid';
import type { Hash } from 'node:crypto';
import { createDigester, digestOf, finishDigest, parseDigest, type DigestAlgorithm } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import type { AppendOptions, BlobStore, UploadInfo, UploadWriter } from '../store/blob-store.ts';
import type { EndedUpload, MetaStore } from '../meta/meta-store.ts';
import { INLINE_BLOB_MAX_BYTES, readIfSmall } from './inline-blobs.ts';
import type { StorageQuota } from './quota.ts';
import { appendOptionsFor } from './request-body.ts';

export interface ContentRange {
  start: number;
  end: number;
}

export interface UploadStatus {
  id: string;
  size: number;
}

interface SessionState {
  hash: Hash;
  size: number;
  busy: boolean;
}

export interface UploadServiceOptions {
  /** Sessions untouched for this long are abandoned and reclaimed; one without bytes expires this long after it was opened. */
  ttlMs: number;
  /** Key of the MAC that binds a session id to its repository (the same on every node). */
  sessionKey: Buffer;
  /** Refuses blobs that would take their registry over its storage quota. */
  quota?: Pick<StorageQuota, 'admitBlob'>;
  /** Blobs up to this size are kept in the metadata database (default `INLINE_BLOB_MAX_BYTES`). */
  inlineMaxBytes?: number;
  /** The chunk size clients are told is the smallest worth sending (default 0: none). */
  chunkMinBytes?: number;
  /** The time in ms since the epoch (default `Date.now`). */
  now?: () => number;
}

/** A session id: a UUID, then a MAC of registry, repository and UUID (22 base64url characters). */
const sessionIdPattern = /^([0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})-([A-Za-z0-9_-]{22})$/;

export function isSessionId(id: string): boolean {
  return sessionIdPattern.test(id);
}

/** A session id a request presented, checked against its registry and repository. */
interface Session {
  id: string;
  /**
   * When it was opened, from its version 7 UUID (the first 48 bits are ms since the epoch);
   * undefined for a UUID of any other version, whose session is known only by its stored bytes.
   */
  openedAt: number | undefined;
}

export class UploadService {
  private readonly sessions = new Map<string, SessionState>();
  private readonly now: () => number;

  constructor(
    private readonly meta: MetaStore,
    private readonly store: BlobStore,
    private readonly options: UploadServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The chunk size clients are told is the smallest worth sending; 0 when there is none. */
  get chunkMinBytes(): number {
    return this.options.chunkMinBytes ?? 0;
  }

  /** Opens a session; nothing is stored until its first bytes arrive. */
  start(registry: string, repository: string): UploadStatus {
    const uuid = uuidV7({ msecs: this.now() });
    return { id: `${uuid}-${this.mac(registry, repository, uuid)}`, size: 0 };
  }

  async status(registry: string, repository: string, id: string): Promise<UploadStatus> {
    const session = this.requireSession(registry, repository, id);
    const writer = await this.openStored(id);
    if (!writer) {
      await this.requireOpenWithoutBytes(session);
      return { id, size: 0 };
    }
    try {
      return { id, size: writer.size };
    } finally {
      await writer.close();
    }
  }

  /** Appends a chunk; `range`, when given, must start where the upload ends. */
  async append(
    registry: string,
    repository: string,
    id: string,
    source: AsyncIterable<Uint8Array>,
    range?: ContentRange,
  ): Promise<UploadStatus> {
    const session = this.requireSession(registry, repository, id);
    this.requireIdle(id);
    const writer = await this.openWriter(session);
    return this.withSession(id, writer, async (state) => {
      await this.appendChunk(writer, state, source, range, appendOptionsFor(source));
      return { id, size: writer.size };
    });
  }

  /** Appends an optional final chunk, verifies the digest and publishes (or, if small, keeps) the blob. */
  async complete(
    registry: string,
    repository: string,
    id: string,
    digest: string | undefined,
    source: AsyncIterable<Uint8Array> | undefined,
    range?: ContentRange,
  ): Promise<string> {
    if (!digest) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required');
    const parsed = parseDigest(digest);
    const session = this.requireSession(registry, repository, id);
    this.requireIdle(id);
    const ended = this.ending(session);
    const stored = await this.openStored(id);
    if (!stored) await this.requireOpenWithoutBytes(session);
    let rest = source;
    if (!stored || stored.size === 0) {
      // The final chunk may be the whole blob: a small one is kept without touching the blob store.
      const whole = await wholeIfSmall(source, range, this.inlineMaxBytes);
      if (whole.content) {
        try {
          await this.keepSmall(registry, repository, digest, parsed.algorithm, whole.content, ended);
        } catch (error) {
          await stored?.close();
          throw error;
        }
        this.sessions.delete(id);
        await stored?.cancel();
        return digest;
      }
      rest = whole.rest;
    }
    const writer = stored ?? (await this.store.openUpload(id));
    return this.withSession(id, writer, async (state) => {
      const content = await this.receiveLast(writer, state, parsed.algorithm, digest, rest, range, appendOptionsFor(source));
      try {
        await this.admit(registry, digest, content?.length ?? writer.size);
      } catch (error) {
        await writer.cancel();
        throw error;
      }
      this.sessions.delete(id);
      if (content) {
        await this.meta.linkBlob(registry, repository, digest, content.length, content, ended);
        await writer.cancel();
      } else {
        await this.publishAndLink(registry, repository, digest, writer, ended);
      }
      return digest;
    });
  }

  /**
   * Ends the session and discards its bytes. (Should the process die between the two, a session
   * without bytes would count as open again until its TTL is over.)
   */
  async cancel(registry: string, repository: string, id: string): Promise<void> {
    const session = this.requireSession(registry, repository, id);
    this.requireIdle(id);
    this.sessions.delete(id);
    if (!(await this.store.deleteUpload(id))) await this.requireOpenWithoutBytes(session);
    const ended = this.ending(session);
    if (ended) await this.meta.endUpload(ended);
  }

  /** A whole blob in one request (`POST ...?digest=`): its bytes go through a session no client sees. */
  async putMonolithic(
    registry: string,
    repository: string,
    digest: string,
    source: AsyncIterable<Uint8Array>,
  ): Promise<string> {
    const parsed = parseDigest(digest);
    const small = await readIfSmall(source, this.inlineMaxBytes);
    if (small.content) {
      await this.keepSmall(registry, repository, digest, parsed.algorithm, small.content);
      return digest;
    }
    // A version 4 UUID: no client can present it, and it never counts as open without bytes.
    const id = randomUUID();
    const writer = await this.store.openUpload(id);
    const state: SessionState = { hash: createDigester('sha256'), size: 0, busy: true };
    try {
      await this.appendChunk(writer, state, small.rest, undefined, appendOptionsFor(source));
      await this.verify(writer, state, parsed.algorithm, digest);
      await this.admit(registry, digest, writer.size);
    } catch (error) {
      await writer.cancel();
      throw error;
    }
    try {
      await this.publishAndLink(registry, repository, digest, writer);
    } finally {
      await writer.close();
    }
    return digest;
  }

  /**
   * Mounts a blob from `from` (or, without `from`, from any repository of the same registry).
   * Returns false when the blob is not readable there; the caller then opens a session instead.
   */
  async mount(registry: string, repository: string, digest: string, from: string | undefined): Promise<boolean> {
    parseDigest(digest);
    // Bytes not in the blob store must be in the blob's row. The source link is checked in the
    // transaction that makes the new one, so a garbage collection that removed the blob
    // meanwhile makes the mount fail instead of half-succeed.
    const stored = (await this.store.stat(digest)) !== undefined;
    return (await this.meta.mountBlob(registry, repository, digest, from, { requireContent: !stored })) !== undefined;
  }

  /** Sessions with stored bytes untouched for the TTL and not being written to by this node. */
  async listAbandoned(now = this.now()): Promise<UploadInfo[]> {
    const cutoff = new Date(now - this.options.ttlMs);
    const abandoned: UploadInfo[] = [];
    for await (const upload of this.store.listUploads()) {
      if (upload.modified < cutoff && !this.sessions.get(upload.id)?.busy) abandoned.push(upload);
    }
    return abandoned;
  }

  /**
   * Reclaims the bytes of sessions untouched for the TTL, and forgets ended sessions whose TTL is
   * over; returns the sessions whose bytes were removed.
   */
  async expireAbandonedUploads(now = this.now()): Promise<UploadInfo[]> {
    const removed: UploadInfo[] = [];
    for (const upload of await this.listAbandoned(now)) {
      if (this.sessions.get(upload.id)?.busy) continue;
      this.sessions.delete(upload.id);
      if (await this.store.deleteUpload(upload.id)) removed.push(upload);
    }
    await this.meta.forgetEndedUploads(new Date(now));
    return removed;
  }

  /** Reclaims the bytes of sessions untouched for the TTL; returns how many. */
  async expireAbandoned(now = this.now()): Promise<number> {
    return (await this.expireAbandonedUploads(now)).length;
  }

  /**
   * Publishes the verified upload as blob `digest`, links it into the repository (ending the
   * session, when it is one a client sees), and commits: the upload keeps its own copy of the
   * bytes until after the link, so if a garbage collection deleted the blob before the link was
   * made (see services/gc.ts) the commit publishes it again.
   */
  private async publishAndLink(registry: string, repository: string, digest: string, writer: UploadWriter, ended?: EndedUpload): Promise<void> {
    try {
      await writer.publish(digest);
      await this.meta.linkBlob(registry, repository, digest, writer.size, undefined, ended);
    } catch (error) {
      // Its bytes may be the blob's now: the session must not take more.
      await writer.cancel();
      throw error;
    }
    await writer.commit(digest);
  }

  /**
   * Receives the optional final chunk and verifies the digest. Returns the blob's bytes when it is
   * small enough for the metadata database.
   */
  private async receiveLast(
    writer: UploadWriter,
    state: SessionState,
    algorithm: DigestAlgorithm,
    digest: string,
    source: AsyncIterable<Uint8Array> | undefined,
    range: ContentRange | undefined,
    append: AppendOptions,
  ): Promise<Buffer | undefined> {
    if (source) await this.appendChunk(writer, state, source, range, append);
    await this.verify(writer, state, algorithm, digest);
    return writer.size <= this.inlineMaxBytes ? await readWhole(writer) : undefined;
  }

  /** Checks the storage quota before anything is published (the caller discards a refused upload). */
  private async admit(registry: string, digest: string, size: number): Promise<void> {
    await this.options.quota?.admitBlob(registry, { digest, size });
  }

  /** The session must have been opened for this registry and repository. */
  private requireSession(registry: string, repository: string, id: string): Session {
    const match = sessionIdPattern.exec(id);
    const expected = match ? Buffer.from(this.mac(registry, repository, match[1]!)) : undefined;
    const presented = match ? Buffer.from(match[3]!) : undefined;
    if (!match || !expected || !presented || !timingSafeEqual(expected, presented)) throw unknownUpload(id);
    const openedAt = match[2] === '7' ? Number.parseInt(match[1]!.replaceAll('-', '').slice(0, 12), 16) : undefined;
    return { id, openedAt };
  }

  /** A session without stored bytes is open for the TTL after it was opened, unless it ended. */
  private async requireOpenWithoutBytes({ id, openedAt }: Session): Promise<void> {
    const now = this.now();
    if (openedAt === undefined || openedAt > now + CLOCK_SKEW_MS || now - openedAt >= this.options.ttlMs) throw unknownUpload(id);
    if (await this.meta.isUploadEnded(id)) throw unknownUpload(id);
  }

  /** What to record when the session ends: remembered while its id could still open a session. */
  private ending({ id, openedAt }: Session): EndedUpload | undefined {
    return openedAt === undefined ? undefined : { id, until: new Date(openedAt + this.options.ttlMs + CLOCK_SKEW_MS) };
  }

  /** Verifies a small blob received whole and links it with its bytes (ending its session, if given). */
  private async keepSmall(
    registry: string,
    repository: string,
    digest: string,
    algorithm: DigestAlgorithm,
    content: Buffer,
    ended?: EndedUpload,
  ): Promise<void> {
    checkDigest(digestOf(content, algorithm), digest);
    await this.admit(registry, digest, content.length);
    await this.meta.linkBlob(registry, repository, digest, content.length, content, ended);
  }

  /** One request at a time writes to a session on this node. */
  private requireIdle(id: string): void {
    if (this.sessions.get(id)?.busy) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'another request is writing to this upload');
    }
  }

  /** The writer of the session's stored bytes; undefined when it has none. */
  private async openStored(id: string): Promise<UploadWriter | undefined> {
    try {
      return await this.store.openUpload(id, { create: false });
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'BLOB_UPLOAD_UNKNOWN') return undefined;
      throw error;
    }
  }

  /** The session's writer, storing its bytes from now on if it had none. */
  private async openWriter(session: Session): Promise<UploadWriter> {
    const stored = await this.openStored(session.id);
    if (stored) return stored;
    await this.requireOpenWithoutBytes(session);
    return await this.store.openUpload(session.id);
  }

  private mac(registry: string, repository: string, uuid: string): string {
    return createHmac('sha256', this.options.sessionKey).update(`${registry}\n${repository}\n${uuid}`).digest('base64url').slice(0, 22);
  }

  /** Runs `work` with an up-to-date hash state of the session `writer` belongs to, then closes the writer. */
  private async withSession<T>(id: string, writer: UploadWriter, work: (state: SessionState) => Promise<T>): Promise<T> {
    let state = this.sessions.get(id);
    try {
      if (!state || state.size !== writer.size) {
        state = { hash: createDigester('sha256'), size: 0, busy: false };
        this.sessions.set(id, state);
        for await (const chunk of writer.read()) state.hash.update(chunk as Buffer);
        state.size = writer.size;
      }
    } catch (error) {
      await writer.close();
      throw error;
    }
    state.busy = true;
    try {
      return await work(state);
    } catch (error) {
      // The in-memory hash may have seen bytes that never reached the store: rebuild it next time.
      if (this.sessions.get(id) === state) this.sessions.delete(id);
      throw error;
    } finally {
      state.busy = false;
      await writer.close();
    }
  }

  private async appendChunk(
    writer: UploadWriter,
    state: SessionState,
    source: AsyncIterable<Uint8Array>,
    range: ContentRange | undefined,
    append: AppendOptions,
  ): Promise<void> {
    if (range && range.start !== writer.size) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', `chunk starts at ${range.start} but the upload has ${writer.size} bytes`, {
        status: 416,
        headers: { Range: rangeHeader(writer.size) },
      });
    }
    const before = writer.size;
    const snapshot = range ? state.hash.copy() : undefined;
    const hashed = hashAlong(source, state.hash);
    const appended = await writer.append(hashed, append);
    state.size = writer.size;
    if (range && snapshot && appended !== range.end - range.start + 1) {
      await writer.truncate(before);
      state.hash = snapshot;
      state.size = before;
      checkChunkLength(appended, range);
    }
  }

  private async verify(writer: UploadWriter, state: SessionState, algorithm: DigestAlgorithm, expected: string): Promise<void> {
    let actual: string;
    if (algorithm === 'sha256') {
      actual = finishDigest(state.hash.copy(), 'sha256');
    } else {
      const hash = createDigester(algorithm);
      for await (const chunk of writer.read()) hash.update(chunk as Buffer);
      actual = finishDigest(hash, algorithm);
    }
    checkDigest(actual, expected);
  }

  private get inlineMaxBytes(): number {
    return this.options.inlineMaxBytes ?? INLINE_BLOB_MAX_BYTES;
  }
}

/** How far ahead of this node's clock another node's may be. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The final chunk of a session without bytes, when it is the whole of a small blob (no chunk is an
 * empty blob); otherwise what is left of the chunk to store.
 */
async function wholeIfSmall(
  source: AsyncIterable<Uint8Array> | undefined,
  range: ContentRange | undefined,
  maxBytes: number,
): Promise<{ content: Buffer; rest?: undefined } | { content?: undefined; rest: AsyncIterable<Uint8Array> | undefined }> {
  if (!source) return { content: Buffer.alloc(0) };
  if (range && range.start !== 0) return { rest: source };
  const small = await readIfSmall(source, maxBytes);
  if (!small.content) return { rest: small.rest };
  if (range) checkChunkLength(small.content.length, range);
  return { content: small.content };
}

function checkDigest(actual: string, expected: string): void {
  if (actual !== expected) {
    throw new RegistryError('DIGEST_INVALID', `digest ${expected} does not match the uploaded content (${actual})`, {
      detail: { expected, actual },
    });
  }
}

/** A chunk sent with `Content-Range` must have exactly the length the range announced. */
function checkChunkLength(length: number, range: ContentRange): void {
  const announced = range.end - range.start + 1;
  if (length !== announced) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', `chunk has ${length} bytes but Content-Range announced ${announced}`);
  }
}

/** The bytes of an upload small enough to be kept in the metadata database. */
async function readWhole(writer: UploadWriter): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of writer.read()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function* hashAlong(source: AsyncIterable<Uint8Array>, hash: Hash): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

/** The `Range` header of an upload: the inclusive byte range received so far ("0-0" when empty). */
export function rangeHeader(size: number): string {
  return `0-${size > 0 ? size - 1 : 0}`;
}

function unknownUpload(id: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is not known to this repository`);
}
