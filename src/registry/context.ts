/** What every `/v2/` handler receives: the addressed registry, the path's parts and the services. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RepositoryAction } from '../auth/actions.ts';
import type { Caller } from '../oauth/callers.ts';
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
  /** Who is asking, as the gate admitted them. */
  caller: Caller;
  /**
   * Whether the caller, already admitted for this route, may also do `action` on another
   * repository of the registry (`undefined`: on every repository), e.g. a mount's source.
   */
  may(repository: string | undefined, action: RepositoryAction): Promise<boolean>;
  /** Whether the caller's principal may do `action`, whatever its token was issued for (quarantine reads). */
  principalMay(repository: string | undefined, action: RepositoryAction): Promise<boolean>;
}

export type RegistryHandler = (context: RegistryContext) => Promise<void>;
