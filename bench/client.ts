/**
 * The OCI Distribution API steps the workloads are made of: blob HEAD, upload start, PATCH,
 * PUT, manifest PUT, blob GET and tag listing, each checking the status the spec requires.
 */
import { Authenticator } from './auth.ts';
import { expectStatus, header, HttpClient, type Body, type HttpResponse } from './http.ts';
import type { Credentials } from './options.ts';

export interface ClientOptions {
  /** Keep-alive connections the client may open. */
  maxSockets: number;
  credentials?: Credentials;
}

const maxRedirects = 3;

export class RegistryClient {
  private constructor(
    readonly http: HttpClient,
    private readonly auth: Authenticator,
  ) {}

  static async connect(baseUrl: string, options: ClientOptions): Promise<RegistryClient> {
    const http = new HttpClient(baseUrl, options.maxSockets);
    const auth = new Authenticator(http, options.credentials);
    try {
      await auth.init();
    } catch (error) {
      http.close();
      throw error;
    }
    return new RegistryClient(http, auth);
  }

  /** `none`, `basic` or `bearer`: what the registry asked for on `/v2/`. */
  get authScheme(): string {
    return this.auth.schemeName;
  }

  /** Authorization headers for `repository` (empty when the registry is open). */
  authHeaders(repository: string): Promise<Record<string, string>> {
    return this.auth.headers(repository);
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    const res = await this.send('HEAD', repository, `/v2/${repository}/blobs/${digest}`);
    expectStatus(res, [200, 404], `HEAD blob ${digest}`);
    return res.status === 200;
  }

  /** POST an upload session; returns its location. */
  async startUpload(repository: string): Promise<URL> {
    const res = await this.send('POST', repository, `/v2/${repository}/blobs/uploads/`);
    expectStatus(res, [202], `POST upload to ${repository}`);
    return this.location(res, 'POST upload');
  }

  /**
   * PATCH bytes into an upload; with `range` it is one chunk (`Content-Range`, `Content-Length`),
   * without it the whole body streams with chunked transfer encoding. Returns the next location.
   */
  async patchUpload(repository: string, location: URL, body: Body, range?: { start: number; length: number }): Promise<URL> {
    const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream' };
    if (range) {
      headers['Content-Range'] = `${range.start}-${range.start + range.length - 1}`;
      headers['Content-Length'] = range.length;
    }
    const res = await this.send('PATCH', repository, location, { headers, body });
    expectStatus(res, [202], 'PATCH upload');
    return this.location(res, 'PATCH upload');
  }

  /** PUT `?digest=` to finish an upload, with the remaining bytes (or none). */
  async completeUpload(repository: string, location: URL, digest: string, body?: Body, length?: number): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream' };
    if (length !== undefined) headers['Content-Length'] = length;
    const res = await this.send('PUT', repository, url, { headers, body });
    expectStatus(res, [201], `PUT upload ${digest}`);
  }

  /** A small blob: HEAD, then (if absent) POST and a PUT carrying the body. */
  async pushSmallBlob(repository: string, data: Buffer, digest: string): Promise<void> {
    if (await this.blobExists(repository, digest)) return;
    const location = await this.startUpload(repository);
    await this.completeUpload(repository, location, digest, data);
  }

  async putManifest(repository: string, reference: string, manifest: Buffer, mediaType: string): Promise<void> {
    const res = await this.send('PUT', repository, `/v2/${repository}/manifests/${reference}`, {
      headers: { 'Content-Type': mediaType },
      body: manifest,
    });
    expectStatus(res, [201], `PUT manifest ${repository}:${reference}`);
  }

  /** GETs a blob, discarding the body; returns the number of bytes received. */
  async pullBlob(repository: string, digest: string): Promise<number> {
    let res = await this.send('GET', repository, `/v2/${repository}/blobs/${digest}`, { read: 'count' });
    for (let hop = 0; hop < maxRedirects && res.status >= 300 && res.status < 400; hop++) {
      // A redirect goes to storage that carries its own authorization in the URL.
      res = await this.http.request('GET', this.location(res, 'GET blob redirect'), { read: 'count' });
    }
    expectStatus(res, [200], `GET blob ${digest}`);
    return res.bytes;
  }

  /** One request on behalf of `repository`, with its authorization. */
  async send(
    method: string,
    repository: string,
    target: string | URL,
    options: { headers?: Record<string, string | number>; body?: Body; read?: 'buffer' | 'count' } = {},
  ): Promise<HttpResponse> {
    const headers = { ...(await this.auth.headers(repository)), ...options.headers };
    return this.http.request(method, target, { ...options, headers });
  }

  close(): void {
    this.http.close();
  }

  private location(res: HttpResponse, what: string): URL {
    const location = header(res, 'location');
    if (!location) throw new Error(`${what}: no Location header`);
    return this.http.resolve(location);
  }
}

/** The `rel="next"` target of an RFC 8288 `Link` header, if any. */
export function nextLink(res: HttpResponse): string | undefined {
  const link = header(res, 'link');
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (match && /\brel="?next"?/i.test(match[2]!)) return match[1];
  }
  return undefined;
}
