/**
 * `berth repository list|show|show-tags|show-manifests|delete|untag`, reading ACR's data-plane
 * listings (`/acr/v1/`) and deleting through `/v2/`, with `az acr repository`'s output shapes.
 */
import { Option, type Command } from 'commander';
import { acrOrderBy, parseBoolean, parseImage, parsePositiveInt, repositoryPath, type ImageReference } from '../arguments.ts';
import type { BerthClient } from '../client.ts';
import { examples, handler } from '../context.ts';
import { CliError } from '../errors.ts';
import type { TableColumn } from '../output.ts';
import { confirm } from '../prompt.ts';

interface TagDetail {
  name: string;
  digest: string;
  createdTime: string;
  lastUpdateTime: string;
  [field: string]: unknown;
}

interface ManifestDetail {
  digest: string;
  mediaType?: string;
  tags?: string[];
  lastUpdateTime: string;
  [field: string]: unknown;
}

const tagTable: TableColumn[] = [
  { header: 'NAME', value: (tag) => tag.name },
  { header: 'DIGEST', value: (tag) => tag.digest },
  { header: 'CREATED TIME', value: (tag) => tag.createdTime },
  { header: 'LAST UPDATE TIME', value: (tag) => tag.lastUpdateTime },
];

const manifestTable: TableColumn[] = [
  { header: 'DIGEST', value: (manifest) => manifest.digest },
  { header: 'TAGS', value: (manifest) => ((manifest.tags as string[] | undefined) ?? []).join(', ') },
  { header: 'TIMESTAMP', value: (manifest) => manifest.timestamp ?? manifest.lastUpdateTime },
];

const indexMediaTypes = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
/** Every manifest type, so that `/v2/` answers with the tagged manifest itself rather than a platform's. */
const anyManifest = '*/*';
/** Index → child → grandchild chains deeper than this are not expected; the passes stop here. */
const MAX_DELETE_PASSES = 8;

interface ListingOptions {
  name?: string;
  repository: string;
  orderby?: string;
  top?: number;
  detail?: boolean;
}

const registryOption = () => new Option('-n, --name <registry>', 'registry name (default: the configured registry)');
const orderOption = () => new Option('--orderby <order>', 'order by time').choices(['time_desc', 'time_asc']);
const topOption = () => new Option('--top <n>', 'at most this many').argParser(parsePositiveInt);

function tagsOf(client: BerthClient, registry: string, repository: string, options: { orderby?: string; top?: number } = {}): Promise<TagDetail[]> {
  return client.acrList<TagDetail>(registry, `/acr/v1/${repositoryPath(repository)}/_tags`, { orderby: acrOrderBy(options.orderby) }, 'tags', options.top);
}

function manifestsOf(client: BerthClient, registry: string, repository: string, options: { orderby?: string; top?: number } = {}): Promise<ManifestDetail[]> {
  return client.acrList<ManifestDetail>(registry, `/acr/v1/${repositoryPath(repository)}/_manifests`, { orderby: acrOrderBy(options.orderby) }, 'manifests', options.top);
}

/** `repo:tag` → its digest, as `/v2/` resolves it. */
async function resolveDigest(client: BerthClient, registry: string, image: ImageReference): Promise<string> {
  if (image.digest !== undefined) return image.digest;
  const response = await client.dataPlane(registry, 'HEAD', `/v2/${repositoryPath(image.repository)}/manifests/${encodeURIComponent(image.tag)}`, { accept: anyManifest });
  const digest = response.headers['docker-content-digest'];
  if (typeof digest !== 'string') throw new CliError(`the server did not name the digest of ${image.repository}:${image.tag}`);
  return digest;
}

/** The `/acr/v1` path of one tag or manifest. */
function imagePath(image: ImageReference): string {
  const repository = repositoryPath(image.repository);
  return image.tag !== undefined ? `/acr/v1/${repository}/_tags/${encodeURIComponent(image.tag)}` : `/acr/v1/${repository}/_manifests/${image.digest}`;
}

async function deleteManifest(client: BerthClient, registry: string, repository: string, digest: string): Promise<void> {
  await client.dataPlane(registry, 'DELETE', `/v2/${repositoryPath(repository)}/manifests/${digest}`);
}

/** Deletes every manifest (and so every tag) of a repository: indexes before what they reference. */
async function deleteRepository(client: BerthClient, registry: string, repository: string): Promise<void> {
  let remaining = await manifestsOf(client, registry, repository);
  remaining.sort((a, b) => Number(indexMediaTypes.has(b.mediaType ?? '')) - Number(indexMediaTypes.has(a.mediaType ?? '')));
  for (let pass = 0; remaining.length > 0; pass++) {
    const refused: ManifestDetail[] = [];
    let lastError: unknown;
    for (const manifest of remaining) {
      try {
        await deleteManifest(client, registry, repository, manifest.digest);
      } catch (error) {
        refused.push(manifest);
        lastError = error;
      }
    }
    if (refused.length === 0) return;
    if (refused.length === remaining.length || pass + 1 >= MAX_DELETE_PASSES) throw lastError;
    remaining = refused;
  }
}

export function registerRepositoryCommands(program: Command): void {
  const repository = examples(program.command('repository').description("manage a registry's repositories and images"), [
    ['List repositories, then the tags of one.', 'berth repository list -n contoso && berth repository show-tags -n contoso --repository hello-world'],
  ]);

  examples(
    repository
      .command('list')
      .description('list repositories')
      .addOption(registryOption())
      .addOption(topOption())
      .action(
        handler<{ name?: string; top?: number }>(async (options, context) => {
          context.print(await context.client.acrList<string>(context.registry(options.name), '/acr/v1/_catalog', {}, 'repositories', options.top));
        }),
      ),
    [['List repositories, one per line.', 'berth repository list -n contoso -o tsv']],
  );

  examples(
    repository
      .command('show')
      .description('show the attributes of a repository or an image')
      .addOption(registryOption())
      .option('--repository <repository>', 'repository name')
      .option('-t, --image <image>', 'repo:tag or repo@digest')
      .action(
        handler<{ name?: string; repository?: string; image?: string }>(async (options, context) => {
          const registry = context.registry(options.name);
          if ((options.repository === undefined) === (options.image === undefined)) throw new CliError('give either --repository or --image');
          if (options.repository !== undefined) {
            context.print(await context.client.acr(registry, `/acr/v1/${repositoryPath(options.repository)}`));
            return;
          }
          context.print(await context.client.acr(registry, imagePath(parseImage(options.image!))));
        }),
      ),
    [
      ['Show a repository.', 'berth repository show -n contoso --repository hello-world'],
      ['Show an image by tag.', 'berth repository show -n contoso --image hello-world:v1'],
    ],
  );

  examples(
    repository
      .command('update')
      .description('lock or unlock a repository or an image (its changeable attributes)')
      .addOption(registryOption())
      .option('--repository <repository>', 'repository name: the attributes apply to everything in it')
      .option('--image <image>', 'repo:tag or repo@digest')
      .option('-t, --manifest <image>', 'repo@digest (or repo:tag)')
      .option('--write-enabled [true|false]', 'allow overwriting (a tag) and deleting', parseBoolean)
      .option('--delete-enabled [true|false]', 'allow deleting', parseBoolean)
      .option('--read-enabled [true|false]', 'allow pulling', parseBoolean)
      .option('--list-enabled [true|false]', 'show in listings', parseBoolean)
      .action(
        handler<{ name?: string; repository?: string; image?: string; manifest?: string } & Partial<Record<'writeEnabled' | 'deleteEnabled' | 'readEnabled' | 'listEnabled', boolean>>>(
          async (options, context) => {
            const registry = context.registry(options.name);
            const targets = [options.repository, options.image, options.manifest].filter((target) => target !== undefined);
            if (targets.length !== 1) throw new CliError('give one of --repository, --image or -t/--manifest');
            const changes = {
              ...(options.deleteEnabled !== undefined && { deleteEnabled: options.deleteEnabled }),
              ...(options.writeEnabled !== undefined && { writeEnabled: options.writeEnabled }),
              ...(options.readEnabled !== undefined && { readEnabled: options.readEnabled }),
              ...(options.listEnabled !== undefined && { listEnabled: options.listEnabled }),
            };
            if (Object.keys(changes).length === 0) throw new CliError('give at least one of --write-enabled, --delete-enabled, --read-enabled, --list-enabled');
            const path = options.repository !== undefined ? `/acr/v1/${repositoryPath(options.repository)}` : imagePath(parseImage((options.image ?? options.manifest)!));
            context.print(await context.client.acrPatch(registry, path, changes));
          },
        ),
      ),
    [
      ['Lock a tag against overwrite and delete.', 'berth repository update -n contoso --image hello-world:v1 --write-enabled false'],
      ['Protect a manifest from deletion only.', 'berth repository update -n contoso -t hello-world@sha256:... --delete-enabled false --write-enabled true'],
      ['Hide a repository from listings.', 'berth repository update -n contoso --repository hello-world --list-enabled false'],
    ],
  );

  examples(
    repository
      .command('show-tags')
      .description('list the tags of a repository')
      .addOption(registryOption())
      .requiredOption('--repository <repository>', 'repository name')
      .addOption(orderOption())
      .addOption(topOption())
      .option('--detail', 'show digests and times as well')
      .action(
        handler<ListingOptions>(async (options, context) => {
          const tags = await tagsOf(context.client, context.registry(options.name), options.repository, options);
          if (options.detail) context.print(tags, tagTable);
          else context.print(tags.map((tag) => tag.name));
        }),
      ),
    [
      ['List tags.', 'berth repository show-tags -n contoso --repository node'],
      ['The ten newest tags with their digests.', 'berth repository show-tags -n contoso --repository node --orderby time_desc --top 10 --detail -o table'],
    ],
  );

  examples(
    repository
      .command('show-manifests')
      .description('list the manifests of a repository with their tags')
      .addOption(registryOption())
      .requiredOption('--repository <repository>', 'repository name')
      .addOption(orderOption())
      .addOption(topOption())
      .option('--detail', 'show sizes, platforms, media types and attributes as well')
      .action(
        handler<ListingOptions>(async (options, context) => {
          const manifests = await manifestsOf(context.client, context.registry(options.name), options.repository, options);
          if (options.detail) context.print(manifests, manifestTable);
          else context.print(manifests.map((manifest) => ({ digest: manifest.digest, tags: manifest.tags ?? [], timestamp: manifest.lastUpdateTime })), manifestTable);
        }),
      ),
    [
      ['List manifests, newest first.', 'berth repository show-manifests -n contoso --repository hello-world --orderby time_desc'],
      ['Print the digests of untagged manifests.', 'berth repository show-manifests -n contoso --repository hello-world --query "[?tags[0]==null].digest" -o tsv'],
    ],
  );

  examples(
    repository
      .command('delete')
      .description('delete a repository, or an image (its manifest and every tag on it)')
      .addOption(registryOption())
      .option('--repository <repository>', 'delete this whole repository')
      .option('-t, --image <image>', 'repo:tag or repo@digest: delete the manifest and all its tags')
      .option('-y, --yes', 'do not prompt for confirmation')
      .action(
        handler<{ name?: string; repository?: string; image?: string; yes?: boolean }>(async (options, context) => {
          const registry = context.registry(options.name);
          if ((options.repository === undefined) === (options.image === undefined)) throw new CliError('give either --repository or --image');
          if (options.repository !== undefined) {
            await confirm(`This operation will delete the repository '${options.repository}' and all the images in it. Are you sure you want to continue?`, options.yes);
            await deleteRepository(context.client, registry, options.repository);
            return;
          }
          const image = parseImage(options.image!);
          await confirm(`This operation will delete the manifest '${options.image}' and all the tags referencing it. Are you sure you want to continue?`, options.yes);
          await deleteManifest(context.client, registry, image.repository, await resolveDigest(context.client, registry, image));
        }),
      ),
    [
      ['Delete an image and every tag on it.', 'berth repository delete -n contoso --image hello-world:v1 --yes'],
      ['Delete untagged manifests.', 'berth repository show-manifests -n contoso --repository x --query "[?tags[0]==null].digest" -o tsv | xargs -I% berth repository delete -n contoso -t x@% --yes'],
      ['Delete a whole repository.', 'berth repository delete -n contoso --repository hello-world --yes'],
    ],
  );

  examples(
    repository
      .command('untag')
      .description('remove a tag; the manifest stays')
      .addOption(registryOption())
      .requiredOption('-t, --image <image>', 'repo:tag')
      .action(
        handler<{ name?: string; image: string }>(async (options, context) => {
          const registry = context.registry(options.name);
          const image = parseImage(options.image);
          if (image.tag === undefined) throw new CliError('--image: untag takes repo:tag');
          await context.client.dataPlane(registry, 'DELETE', `/v2/${repositoryPath(image.repository)}/manifests/${encodeURIComponent(image.tag)}`);
        }),
      ),
    [['Remove the tag latest.', 'berth repository untag -n contoso --image hello-world:latest']],
  );
}
