/**
 * Manifest and index parsing: validates a pushed manifest body and lists what it references
 * (blobs, child manifests, subject), which is all the registry needs to store and serve it.
 * Every rule broken is a `MANIFEST_INVALID` naming the field.
 */
import { parseDigest } from './digest.ts';
import { RegistryError } from './errors.ts';
import {
  OCI_INDEX,
  OCI_MANIFEST,
  essenceOf,
  isIndexMediaType,
  isManifestMediaType,
  isNonDistributableLayer,
  isSchema1MediaType,
  isValidMediaType,
  type ManifestMediaType,
} from './media-types.ts';

/** The size the distribution spec says registries should accept; a larger body is refused with 413. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
}

export interface ParsedManifest {
  /** The effective media type: the Content-Type when it is a manifest type, else the body's, else inferred. */
  mediaType: ManifestMediaType;
  kind: 'image' | 'index';
  /** The `artifactType` field; for an image manifest without one, its config's media type; for an index without one, null. */
  artifactType: string | null;
  subject: Descriptor | null;
  /** Image manifests: config and layers, without non-distributable layers (the registry may not hold those). */
  blobs: Descriptor[];
  /** Indexes: their entries. */
  manifests: Descriptor[];
  annotations: Record<string, string> | null;
  /** Image manifests: the config descriptor; indexes: null. */
  config: Descriptor | null;
  /** What the manifest refers to, in bytes: config and every layer, or every index entry. */
  contentSize: number;
}

type JsonObject = Record<string, unknown>;

function invalid(message: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Optional fields written as `null` (some encoders do) count as absent. */
function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

function readMediaType(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  if (!isValidMediaType(value)) throw invalid(`${field} "${value}" is not a valid media type`);
  return value;
}

function readStringArray(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalid(`${field} must be an array of strings`);
  }
  return value;
}

function readAnnotations(value: unknown, field: string): Record<string, string> {
  if (!isObject(value) || !Object.values(value).every((item) => typeof item === 'string')) {
    throw invalid(`${field} must be an object of strings`);
  }
  return value as Record<string, string>;
}

function readOptionalString(source: JsonObject, key: string, field: string): string | undefined {
  const value = source[key];
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'string') throw invalid(`${field}.${key} must be a string`);
  return value;
}

function readPlatform(value: unknown, field: string): Platform {
  if (!isObject(value)) throw invalid(`${field} must be an object`);
  const architecture = readOptionalString(value, 'architecture', field);
  const os = readOptionalString(value, 'os', field);
  if (architecture === undefined) throw invalid(`${field}.architecture is required`);
  if (os === undefined) throw invalid(`${field}.os is required`);
  const platform: Platform = { architecture, os };
  const osVersion = readOptionalString(value, 'os.version', field);
  if (osVersion !== undefined) platform['os.version'] = osVersion;
  const variant = readOptionalString(value, 'variant', field);
  if (variant !== undefined) platform.variant = variant;
  if (!isAbsent(value['os.features'])) platform['os.features'] = readStringArray(value['os.features'], `${field}.os.features`);
  if (!isAbsent(value.features)) platform.features = readStringArray(value.features, `${field}.features`);
  return platform;
}

function readDescriptor(value: unknown, field: string): Descriptor {
  if (!isObject(value)) throw invalid(`${field} must be a descriptor object`);
  const mediaType = readMediaType(value.mediaType, `${field}.mediaType`);
  if (typeof value.digest !== 'string') throw invalid(`${field}.digest must be a string`);
  let digest: string;
  try {
    digest = parseDigest(value.digest).digest;
  } catch (error) {
    throw error instanceof RegistryError ? invalid(`${field}.digest: ${error.message}`) : error;
  }
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${field}.size must be a non-negative integer`);
  }
  const descriptor: Descriptor = { mediaType, digest, size };
  if (!isAbsent(value.urls)) descriptor.urls = readStringArray(value.urls, `${field}.urls`);
  if (!isAbsent(value.annotations)) descriptor.annotations = readAnnotations(value.annotations, `${field}.annotations`);
  if (!isAbsent(value.artifactType)) descriptor.artifactType = readMediaType(value.artifactType, `${field}.artifactType`);
  if (!isAbsent(value.platform)) descriptor.platform = readPlatform(value.platform, `${field}.platform`);
  if (!isAbsent(value.data) && typeof value.data !== 'string') throw invalid(`${field}.data must be a base64 string`);
  return descriptor;
}

function readDescriptorArray(value: unknown, field: string): Descriptor[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array`);
  return value.map((item, index) => readDescriptor(item, `${field}[${index}]`));
}

const schema1Refusal = 'manifest schema version 1 is not supported; push a Docker schema 2 or OCI manifest';

/**
 * The Content-Type wins when it names a manifest type; a generic one (`application/json`,
 * `application/octet-stream`, none) defers to the body's `mediaType`, then to the body's shape.
 */
function effectiveMediaType(document: JsonObject, contentType: string | undefined): ManifestMediaType {
  const header = essenceOf(contentType);
  const declared = document.mediaType;
  if (!isAbsent(declared) && typeof declared !== 'string') throw invalid('mediaType must be a string');
  if (isSchema1MediaType(header) || (typeof declared === 'string' && isSchema1MediaType(declared))) {
    throw invalid(schema1Refusal);
  }
  if (isManifestMediaType(header)) {
    if (typeof declared === 'string' && declared !== header) {
      throw invalid(`mediaType "${declared}" does not match Content-Type "${header}"`);
    }
    return header;
  }
  if (typeof declared === 'string') {
    if (!isManifestMediaType(declared)) throw invalid(`unsupported manifest mediaType "${declared}"`);
    return declared;
  }
  const looksLikeIndex = Array.isArray(document.manifests);
  const looksLikeImage = 'config' in document && Array.isArray(document.layers);
  if (looksLikeIndex && !looksLikeImage) return OCI_INDEX;
  if (looksLikeImage && !looksLikeIndex) return OCI_MANIFEST;
  throw invalid('cannot tell the manifest type: no mediaType, and neither "manifests" nor "config" and "layers"');
}

function parseJsonObject(body: Buffer): JsonObject {
  if (body.length > MAX_MANIFEST_BYTES) {
    throw new RegistryError('MANIFEST_INVALID', `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, { status: 413 });
  }
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isObject(document)) throw invalid('manifest must be a JSON object');
  return document;
}

export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  const document = parseJsonObject(body);
  if (document.schemaVersion === 1) throw invalid(schema1Refusal);
  if (document.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const mediaType = effectiveMediaType(document, contentType);

  const declaredArtifactType = isAbsent(document.artifactType) ? null : readMediaType(document.artifactType, 'artifactType');
  const subject = isAbsent(document.subject) ? null : readDescriptor(document.subject, 'subject');
  const annotations = isAbsent(document.annotations) ? null : readAnnotations(document.annotations, 'annotations');

  if (isIndexMediaType(mediaType)) {
    if (document.manifests === undefined) throw invalid('manifests is required in an index');
    const manifests = readDescriptorArray(document.manifests, 'manifests');
    return {
      mediaType,
      kind: 'index',
      artifactType: declaredArtifactType,
      subject,
      blobs: [],
      manifests,
      annotations,
      config: null,
      contentSize: sizeOf(manifests),
    };
  }

  if (document.config === undefined) throw invalid('config is required in an image manifest');
  if (document.layers === undefined) throw invalid('layers is required in an image manifest');
  const config = readDescriptor(document.config, 'config');
  const layers = readDescriptorArray(document.layers, 'layers');
  return {
    mediaType,
    kind: 'image',
    artifactType: declaredArtifactType ?? config.mediaType,
    subject,
    blobs: [config, ...layers.filter((layer) => !isNonDistributableLayer(layer.mediaType))],
    manifests: [],
    annotations,
    config,
    contentSize: sizeOf([config, ...layers]),
  };
}

function sizeOf(descriptors: Descriptor[]): number {
  return descriptors.reduce((total, descriptor) => total + descriptor.size, 0);
}

/** The q value of one Accept entry's parameters; a missing or malformed one counts as 1. */
function qualityOf(parameters: string[]): number {
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=', 2).map((part) => part.trim());
    if (name?.toLowerCase() !== 'q' || value === undefined) continue;
    const q = Number(value);
    return Number.isFinite(q) && value !== '' ? Math.min(Math.max(q, 0), 1) : 1;
  }
  return 1;
}

/**
 * Whether a client's Accept header(s) allow `mediaType`. No header means anything; the most
 * specific matching range decides (the exact type, then `type/*`, then the full wildcard), and
 * q=0 means "not this".
 */
export function acceptsMediaType(acceptHeader: string | string[] | undefined, mediaType: string): boolean {
  const headers = Array.isArray(acceptHeader) ? acceptHeader : [acceptHeader ?? ''];
  const entries = headers.flatMap((header) => header.split(',')).map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.length === 0) return true;

  const wanted = mediaType.toLowerCase();
  const typeRange = `${wanted.split('/')[0]}/*`;
  let best = { specificity: -1, quality: 0 };
  for (const entry of entries) {
    const [range = '', ...parameters] = entry.split(';').map((part) => part.trim());
    const lowered = range.toLowerCase();
    const specificity = lowered === wanted ? 2 : lowered === typeRange ? 1 : lowered === '*/*' ? 0 : -1;
    if (specificity < best.specificity || specificity === -1) continue;
    const quality = qualityOf(parameters);
    if (specificity > best.specificity || quality > best.quality) best = { specificity, quality };
  }
  return best.quality > 0;
}

export interface PlatformWanted {
  os: string;
  architecture: string;
  variant?: string;
}

/** Names Node and uname use for architectures that the image spec spells differently. */
const architectureAliases: Record<string, string> = { x64: 'amd64', x86_64: 'amd64', aarch64: 'arm64' };
/** The variant an entry without one stands for, as containerd's platform matcher assumes. */
const defaultVariants: Record<string, string> = { arm64: 'v8', arm: 'v7' };

function normalizePlatform(platform: PlatformWanted): Required<PlatformWanted> {
  const architecture = architectureAliases[platform.architecture] ?? platform.architecture;
  return { os: platform.os, architecture, variant: platform.variant ?? defaultVariants[architecture] ?? '' };
}

/**
 * The index entry to serve a client that cannot take an index: same os and architecture, the
 * same variant when one is asked for (else the entry of the default variant, else the first).
 */
export function selectPlatform(manifests: Descriptor[], platform: PlatformWanted): Descriptor | undefined {
  const wanted = normalizePlatform(platform);
  const candidates = manifests.flatMap((entry) => {
    if (entry.platform === undefined) return [];
    const offered = normalizePlatform(entry.platform);
    const fits = offered.os === wanted.os && offered.architecture === wanted.architecture;
    return fits ? [{ entry, variant: offered.variant }] : [];
  });
  const sameVariant = candidates.find((candidate) => candidate.variant === wanted.variant);
  return (sameVariant ?? (platform.variant === undefined ? candidates[0] : undefined))?.entry;
}
