/** The `/acr/v1/` listings: catalog, repository summary, tags and manifests in ACR's JSON shapes. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDigest } from '../../oci/digest.ts';
import { RegistryError } from '../../oci/errors.ts';
import { nextLink, parsePagination } from '../../oci/pagination.ts';
import type { ListingOrder } from '../../meta/meta-store.ts';
import type { Caller } from '../../oauth/callers.ts';
import type { AttributeService } from '../../services/attributes.ts';
import type { ListingService } from '../../services/listings.ts';
import { manifestJson } from './attribute-handlers.ts';

export interface AcrContext {
  registry: string;
  /** The repository named in the path ('' for the catalog). */
  repository: string;
  /** The login server the client addressed, reported as `registry` in responses. */
  loginServer: string;
  listings: ListingService;
  attributes: AttributeService;
  /** The path's tag or digest after `_tags/` or `_manifests/` ('' elsewhere). */
  segment: string;
  /** Who is asking, as the gate admitted them. */
  caller: Caller | undefined;
  request: FastifyRequest;
  reply: FastifyReply;
}

export type AcrHandler = (context: AcrContext) => Promise<void>;

/** Pages are this long unless `n` says otherwise (acr-cli asks for 100). */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

type Query = Record<string, string | string[] | undefined>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

function page(request: FastifyRequest): { n: number; last: string | undefined; orderby: ListingOrder | undefined } {
  const query = request.query as Query;
  const { n, last } = parsePagination(query, MAX_PAGE);
  const orderby = single(query, 'orderby');
  if (orderby !== undefined && orderby !== 'timedesc' && orderby !== 'timeasc') {
    throw new RegistryError('UNSUPPORTED', `orderby must be timedesc or timeasc, got "${orderby}"`, { status: 400 });
  }
  return { n: n ?? DEFAULT_PAGE, last, orderby };
}

function sendJson(reply: FastifyReply, body: unknown): void {
  reply.header('content-type', 'application/json').send(JSON.stringify(body));
}

/** Sets `Link` to the next page when this one is full. */
function linkNext(reply: FastifyReply, path: string, n: number, entries: number, last: string | undefined, orderby?: ListingOrder): void {
  if (last !== undefined && entries === n) reply.header('link', nextLink(path, n, last, orderby ? { orderby } : {}));
}

async function requireRepository({ attributes, registry, repository }: AcrContext) {
  return await attributes.repository(registry, repository);
}

export async function listCatalog({ listings, registry, request, reply }: AcrContext): Promise<void> {
  const { n, last } = page(request);
  const repositories = n === 0 ? [] : await listings.catalog(registry, { n, last });
  linkNext(reply, '/acr/v1/_catalog', n, repositories.length, repositories.at(-1));
  sendJson(reply, { repositories });
}

export async function listTagDetails(context: AcrContext): Promise<void> {
  const { listings, registry, repository, request, reply } = context;
  const { n, last, orderby } = page(request);
  const digest = single(request.query as Query, 'digest');
  if (digest !== undefined) parseDigest(digest);
  await requireRepository(context);
  const tags = n === 0 ? [] : await listings.tags(registry, repository, { n, last, orderby, digest });
  linkNext(reply, `/acr/v1/${repository}/_tags`, n, tags.length, tags.at(-1)?.name, orderby);
  sendJson(reply, {
    registry: context.loginServer,
    imageName: repository,
    tags: tags.map((tag) => ({
      name: tag.name,
      digest: tag.digest,
      createdTime: tag.createdTime,
      lastUpdateTime: tag.lastUpdateTime,
      signed: false,
      changeableAttributes: tag.changeableAttributes,
    })),
  });
}

export async function listManifestDetails(context: AcrContext): Promise<void> {
  const { listings, registry, repository, request, reply } = context;
  const { n, last, orderby } = page(request);
  await requireRepository(context);
  const manifests = n === 0 ? [] : await listings.manifests(registry, repository, { n, last, orderby });
  linkNext(reply, `/acr/v1/${repository}/_manifests`, n, manifests.length, manifests.at(-1)?.digest, orderby);
  sendJson(reply, {
    registry: context.loginServer,
    imageName: repository,
    manifests: manifests.map(manifestJson),
  });
}
