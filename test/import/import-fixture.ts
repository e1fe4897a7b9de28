/** Steps shared by the import tests: start an import job, wait for it, and look at what it left. */
import assert from 'node:assert/strict';
import type { TestAuth, TestBerth } from '../helper.ts';
import { mgmt, type JsonResponse } from '../helpers/identity.ts';

export interface ImportJobView {
  id: string;
  status: 'Running' | 'Succeeded' | 'Failed';
  source: string;
  sourceRegistry: string | null;
  targetTags: string[];
  untaggedTargetRepositories: string[];
  mode: string;
  digest: string | null;
  mediaType: string | null;
  progress: {
    manifests: { total: number; copied: number };
    blobs: { total: number; copied: number; linked: number; skipped: number };
    bytes: { total: number; copied: number };
  };
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface ImportBody {
  source: { sourceImage: string; registryUri?: string; resourceId?: string; credentials?: { username: string; password: string } };
  targetTags?: string[];
  untaggedTargetRepositories?: string[];
  mode?: 'Force' | 'NoForce';
}

const WAIT_MS = 90_000;

/** `POST /mgmt/v1/registries/{registry}/imports`. */
export function startImport(server: TestBerth, registry: string, body: ImportBody, auth?: TestAuth): Promise<JsonResponse<ImportJobView>> {
  return mgmt<ImportJobView>(server, 'POST', `/registries/${registry}/imports`, body, auth);
}

/** Polls the job until it is no longer Running. */
export async function waitForImport(server: TestBerth, registry: string, id: string): Promise<ImportJobView> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const response = await mgmt<ImportJobView>(server, 'GET', `/registries/${registry}/imports/${id}`);
    assert.equal(response.status, 200, response.text);
    if (response.body.status !== 'Running') return response.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`import ${id} still running after ${WAIT_MS} ms`);
}

/** Starts an import (asserting 202) and waits for its end. */
export async function importImage(server: TestBerth, registry: string, body: ImportBody): Promise<ImportJobView> {
  const started = await startImport(server, registry, body);
  assert.equal(started.status, 202, started.text);
  assert.equal(started.headers.get('location'), `/mgmt/v1/registries/${registry}/imports/${started.body.id}`);
  return waitForImport(server, registry, started.body.id);
}

export function assertSucceeded(job: ImportJobView): void {
  assert.equal(job.status, 'Succeeded', `import failed: ${job.error}`);
  assert.equal(job.error, null);
  assert.ok(job.finishedAt);
}

export function assertFailed(job: ImportJobView, pattern: RegExp): void {
  assert.equal(job.status, 'Failed', `expected a failure, got ${JSON.stringify(job)}`);
  assert.match(job.error ?? '', pattern);
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The digest Berth serves for `repo:reference` in a registry, or undefined when it serves none. */
export async function servedDigest(server: TestBerth, repository: string, reference: string, host?: string): Promise<string | undefined> {
  const response = await server.request(`/v2/${repository}/manifests/${reference}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT }, ...(host && { host }) });
  if (response.status === 404) return undefined;
  assert.equal(response.status, 200, `HEAD ${repository}:${reference}`);
  return response.headers.get('docker-content-digest') ?? undefined;
}

export async function blobServed(server: TestBerth, repository: string, digest: string, host?: string): Promise<boolean> {
  const response = await server.request(`/v2/${repository}/blobs/${digest}`, { method: 'HEAD', ...(host && { host }) });
  return response.status === 200;
}

export async function catalog(server: TestBerth, host?: string): Promise<string[]> {
  const response = await server.request('/v2/_catalog', { ...(host && { host }) });
  assert.equal(response.status, 200);
  return ((await response.json()) as { repositories: string[] }).repositories;
}
