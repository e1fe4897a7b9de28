/** What every `/v2/` handler receives: the addressed registry, the path's parts and the services. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BlobService } from '../services/blobs.ts';
import type { ManifestService } from '../services/manifests.ts';
import type { UploadService } from '../services/uploads.ts';

export interface RegistryServices {
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
}

export interface PathParams {
  /** Repository name, validated against the spec's grammar. */
  name: string;
  /** The last path segment: a digest, a tag-or-digest reference, or an upload id. */
  ref: string;
}

export interface RegistryContext {
  registry: string;
  params: PathParams;
  services: RegistryServices;
  request: FastifyRequest;
  reply: FastifyReply;
}

export type RegistryHandler = (context: RegistryContext) => Promise<void>;
