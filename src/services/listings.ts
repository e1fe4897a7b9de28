/**
 * Read-only listings behind ACR's data-plane API (`/acr/v1/`): repositories, a repository's
 * summary, its tags and manifests with times, sizes and platforms, paged and ordered.
 */
import type { ListingPage, ManifestDetail, Page, RepositoryInfo, TagDetail } from '../meta/meta-store.ts';

/** The metadata queries the listings need (a part of `MetaStore`). */
export interface ListingQueries {
  listRepositories(registry: string, page: Page): Promise<string[]>;
  getRepositoryInfo(registry: string, repository: string): Promise<RepositoryInfo | undefined>;
  listTagDetails(registry: string, repository: string, options: ListingPage & { digest?: string }): Promise<TagDetail[]>;
  listManifestDetails(registry: string, repository: string, options: ListingPage): Promise<ManifestDetail[]>;
}

export class ListingService {
  constructor(private readonly meta: ListingQueries) {}

  catalog(registry: string, page: Page): Promise<string[]> {
    return this.meta.listRepositories(registry, page);
  }

  /** The repository's summary; undefined when it does not exist (or holds no manifest). */
  repository(registry: string, repository: string): Promise<RepositoryInfo | undefined> {
    return this.meta.getRepositoryInfo(registry, repository);
  }

  tags(registry: string, repository: string, page: ListingPage & { digest?: string }): Promise<TagDetail[]> {
    return this.meta.listTagDetails(registry, repository, page);
  }

  manifests(registry: string, repository: string, page: ListingPage): Promise<ManifestDetail[]> {
    return this.meta.listManifestDetails(registry, repository, page);
  }
}
