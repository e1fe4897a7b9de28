/**
 * The `/acr/v1/` endpoints that show, change and delete one repository, tag or manifest, in ACR's
 * JSON shapes. Lock changes are a PATCH of `changeableAttributes` fields (flat, as `az acr
 * repository update` sends them, or wrapped in `changeableAttributes`); a manifest PATCH may also
 * carry a quarantine decision.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { principalName } from '../../auth/principal.ts';
import { parseDigest } from '../../oci/digest.ts';
import { RegistryError } from '../../oci/errors.ts';
import { assertTag } from '../../oci/names.ts';
import type { ManifestAttributeChanges } from '../../meta/attribute-store.ts';
import type { ChangeOrigin } from '../../meta/event-store.ts';
import type { ManifestDetail, TagDetail } from '../../meta/meta-store.ts';
import type { AcrContext } from './handlers.ts';

const lockChanges = z.strictObject({
  deleteEnabled: z.boolean().optional(),
  writeEnabled: z.boolean().optional(),
  readEnabled: z.boolean().optional(),
  listEnabled: z.boolean().optional(),
});

const manifestChanges = lockChanges.extend({
  quarantineState: z.enum(['Pending', 'Passed', 'Failed']).optional(),
  quarantineDetails: z.string().max(64 * 1024).optional(),
});

/** The fields of a PATCH body, unwrapped from `changeableAttributes` if sent that way. */
function patchFields(body: unknown): unknown {
  if (body && typeof body === 'object' && 'changeableAttributes' in body && Object.keys(body).length === 1) {
    return (body as { changeableAttributes: unknown }).changeableAttributes;
  }
  return body ?? {};
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(patchFields(body));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new RegistryError('UNSUPPORTED', `invalid attributes: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'bad body'}`, { status: 400 });
  }
  return result.data;
}

/** Whether a manifest PATCH body decides quarantine (needs quarantine_write) and/or changes locks (metadata_write). */
export function manifestPatchActions(body: unknown): ('metadata_write' | 'quarantine_write')[] {
  const fields = patchFields(body);
  const keys = fields && typeof fields === 'object' ? Object.keys(fields) : [];
  const actions: ('metadata_write' | 'quarantine_write')[] = [];
  if (keys.some((key) => key.startsWith('quarantine'))) actions.push('quarantine_write');
  if (keys.length === 0 || keys.some((key) => !key.startsWith('quarantine'))) actions.push('metadata_write');
  return actions;
}

function origin(context: AcrContext): ChangeOrigin {
  const { request } = context;
  return {
    requestId: randomUUID(),
    host: request.headers.host ?? '',
    method: request.method,
    userAgent: request.headers['user-agent'] ?? '',
    address: request.ip,
    ...(context.caller && { actor: principalName(context.caller.principal) }),
  };
}

function sendJson(context: AcrContext, body: unknown): void {
  context.reply.header('content-type', 'application/json').send(JSON.stringify(body));
}

function tagOf(context: AcrContext): string {
  assertTag(context.segment);
  return context.segment;
}

function digestOf(context: AcrContext): string {
  parseDigest(context.segment);
  return context.segment;
}

async function sendRepository(context: AcrContext, detail: Awaited<ReturnType<AcrContext['attributes']['repository']>>): Promise<void> {
  sendJson(context, {
    registry: context.loginServer,
    imageName: context.repository,
    createdTime: detail.createdTime,
    lastUpdateTime: detail.lastUpdateTime,
    manifestCount: detail.manifestCount,
    tagCount: detail.tagCount,
    changeableAttributes: detail.changeableAttributes,
  });
}

export async function showRepository(context: AcrContext): Promise<void> {
  await sendRepository(context, await context.attributes.repository(context.registry, context.repository));
}

export async function updateRepository(context: AcrContext): Promise<void> {
  const changes = parseBody(lockChanges, context.request.body);
  await sendRepository(context, await context.attributes.updateRepository(context.registry, context.repository, changes));
}

export async function deleteRepository(context: AcrContext): Promise<void> {
  const result = await context.attributes.deleteRepository(context.registry, context.repository, origin(context));
  context.reply.code(202);
  sendJson(context, result);
}

function tagJson(tag: TagDetail) {
  return {
    name: tag.name,
    digest: tag.digest,
    createdTime: tag.createdTime,
    lastUpdateTime: tag.lastUpdateTime,
    signed: false,
    changeableAttributes: tag.changeableAttributes,
  };
}

export async function showTag(context: AcrContext): Promise<void> {
  const tag = await context.attributes.tag(context.registry, context.repository, tagOf(context));
  sendJson(context, { registry: context.loginServer, imageName: context.repository, tag: tagJson(tag) });
}

export async function updateTag(context: AcrContext): Promise<void> {
  const changes = parseBody(lockChanges, context.request.body);
  const tag = await context.attributes.updateTag(context.registry, context.repository, tagOf(context), changes);
  sendJson(context, { registry: context.loginServer, imageName: context.repository, tag: tagJson(tag) });
}

export async function deleteTag(context: AcrContext): Promise<void> {
  await context.attributes.deleteTag(context.registry, context.repository, tagOf(context), origin(context));
  context.reply.code(202).header('content-length', 0).send();
}

/** A manifest as ACR shows it; quarantine state and details are among its `changeableAttributes`. */
export function manifestJson(manifest: ManifestDetail) {
  return {
    digest: manifest.digest,
    imageSize: manifest.imageSize,
    createdTime: manifest.createdTime,
    lastUpdateTime: manifest.lastUpdateTime,
    architecture: manifest.architecture,
    os: manifest.os,
    mediaType: manifest.mediaType,
    configMediaType: manifest.configMediaType,
    tags: manifest.tags,
    changeableAttributes: manifest.changeableAttributes,
  };
}

export async function showManifest(context: AcrContext): Promise<void> {
  const manifest = await context.attributes.manifest(context.registry, context.repository, digestOf(context));
  sendJson(context, { registry: context.loginServer, imageName: context.repository, manifest: manifestJson(manifest) });
}

export async function updateManifest(context: AcrContext): Promise<void> {
  const changes: ManifestAttributeChanges = parseBody(manifestChanges, context.request.body);
  const manifest = await context.attributes.updateManifest(context.registry, context.repository, digestOf(context), changes, origin(context));
  sendJson(context, { registry: context.loginServer, imageName: context.repository, manifest: manifestJson(manifest) });
}
