/** `/v2/<name>/tags/list`: tags in lexical order, paginated with `n`/`last` and `Link`. */
import { nextLink, parsePagination } from '../oci/pagination.ts';
import type { RegistryContext } from './context.ts';
import { fetchPage, MAX_PAGE } from './paging.ts';

export async function listTags({ registry, params, services, request, reply }: RegistryContext): Promise<void> {
  const { n, last } = parsePagination(request.query as Record<string, string>, MAX_PAGE);
  // Even an empty page (n=0) answers NAME_UNKNOWN for a repository that does not exist.
  const page = await fetchPage((range) => services.manifests.tags(registry, params.name, range), n === 0 ? 1 : n, last);
  const tags = n === 0 ? [] : page.items;
  const final = tags[tags.length - 1];
  if (n && page.more && final !== undefined) reply.header('link', nextLink(`/v2/${params.name}/tags/list`, n, final));
  reply.header('content-type', 'application/json').send(JSON.stringify({ name: params.name, tags }));
}
