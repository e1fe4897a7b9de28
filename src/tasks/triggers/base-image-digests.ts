/**
 * The digest a base image's tag points at now: read from the metadata store for a registry of
 * this installation, and with a manifest request (anonymous, or with the task's credential for
 * that login server) for an external one. An external upstream that cannot be read — gone,
 * refused, unreachable — is reported with the reason, never thrown.
 */
import { RemoteSource } from '../../import/remote-source.ts';
import { parseSourceImage, sourceBaseUrl } from '../../import/source-reference.ts';
import type { MetaStore } from '../../meta/meta-store.ts';
import { OutboundPipeline } from '../../outbound/pipeline.ts';
import { registryAuthPolicy } from '../../outbound/registry-auth.ts';
import type { RegistryCredentials } from '../../outbound/registry-challenge.ts';
import { requestIdPolicy } from '../../outbound/request-id.ts';
import { retryPolicy } from '../../outbound/retry.ts';
import { timeoutPolicy } from '../../outbound/timeout.ts';
import { userAgentPolicy } from '../../outbound/user-agent.ts';

export interface ImageTag {
  loginServer: string;
  repository: string;
  tag: string;
}

export type DigestLookup = { digest: string } | { unavailable: string };

export interface BaseImageDigestOptions {
  manifests: Pick<MetaStore, 'getManifestByTag'>;
  /** Hosts reached over plain http besides loopback ones (`import.insecureRegistries`). */
  insecureRegistries?: readonly string[];
  /** Time allowed for an external registry to answer one request; default 10 s. */
  timeoutMs?: number;
  pipeline?: OutboundPipeline;
}

export class BaseImageDigests {
  readonly #options: BaseImageDigestOptions;
  readonly #pipeline: OutboundPipeline;

  constructor(options: BaseImageDigestOptions) {
    this.#options = options;
    this.#pipeline =
      options.pipeline ??
      new OutboundPipeline([
        requestIdPolicy(),
        userAgentPolicy('Berth (base-image trigger)'),
        retryPolicy({ maxRetries: 1, baseDelayMs: 250, maxDelayMs: 2000 }),
        timeoutPolicy(options.timeoutMs ?? 10_000),
      ]);
  }

  /** The tag's digest in `registry` of this installation, or, when `registry` is null, at its login server. */
  async lookup(image: ImageTag, registry: string | null, credentials?: RegistryCredentials): Promise<DigestLookup> {
    if (registry !== null) {
      const manifest = await this.#options.manifests.getManifestByTag(registry, image.repository, image.tag);
      return manifest ? { digest: manifest.digest } : { unavailable: `${image.repository}:${image.tag} does not exist in registry ${registry}` };
    }
    try {
      const source = parseSourceImage(`${image.loginServer}/${image.repository}:${image.tag}`, false);
      const reader = new RemoteSource(this.#pipeline.with(registryAuthPolicy(credentials ? { credentials } : {}), { before: 'timeout' }), {
        baseUrl: sourceBaseUrl(source.host!, this.#options.insecureRegistries),
        repository: source.repository,
        withCredentials: credentials !== undefined,
        stallTimeoutMs: this.#options.timeoutMs ?? 10_000,
      });
      return { digest: (await reader.manifest(image.tag)).digest };
    } catch (error) {
      // Gone, refused, unreachable or answering nonsense: all the same to a poll.
      return { unavailable: error instanceof Error ? error.message : String(error) };
    }
  }
}
