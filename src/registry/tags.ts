/** `/v2/<name>/tags/list`: tags in lexical order, paginated with `n`/`last` and `Link`. */
import { nextLink, parsePagination } from '../oci/pagination.ts';
import type { RegistryContext } from './context.ts';

export const MAX_PAGE = 10_000;

export async function listTags({ registry, params, services, request, reply }: RegistryContext): Promise<void> {
  const page = parsePagination(request.query as Record<string, string>, MAX_PAGE);
  const tags = page.n === 0 ? [] : await services.manifests.tags(registry, params.name, page);
  const last = tags[tags.length - 1];
  if (page.n !== undefined && last !== undefined && tags.length === page.n) {
    reply.header('link', nextLink(`/v2/${params.name}/tags/list`, page.n, last));
  }
  reply.header('content-type', 'application/json').send(JSON.stringify({ name: params.name, tags }));
}
