/** `/v2/_catalog`: the registry's repositories in lexical order, paginated with `n`/`last` and `Link`. */
import { nextLink, parsePagination } from '../oci/pagination.ts';
import type { RegistryContext } from './context.ts';
import { fetchPage, MAX_PAGE } from './paging.ts';

/** Without `n`, the catalog is still paged so a huge registry never answers with one giant body. */
const DEFAULT_CATALOG_PAGE = 1000;

export async function listRepositories({ registry, services, request, reply }: RegistryContext): Promise<void> {
  const page = parsePagination(request.query as Record<string, string>, MAX_PAGE);
  const n = page.n ?? DEFAULT_CATALOG_PAGE;
  const { items: repositories, more } = n === 0 ? { items: [], more: false } : await fetchPage((range) => services.manifests.catalog(registry, range), n, page.last);
  const final = repositories[repositories.length - 1];
  if (more && final !== undefined) reply.header('link', nextLink('/v2/_catalog', n, final));
  reply.header('content-type', 'application/json').send(JSON.stringify({ repositories }));
}
