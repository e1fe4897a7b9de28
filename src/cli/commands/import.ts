/**
 * `berth import`: a server-side copy of an image into a registry (`az acr import`), from any
 * registry (`--source host/repo:tag`) or from a registry of this installation (`--registry`),
 * followed with a progress bar until it ends, or left running with `--no-wait`.
 *
 * As in `az acr import`, `-u/--username` and `-p/--password` given after `import` are the
 * credentials of the source registry; the caller's own Berth credential then comes from global
 * flags written before `import`, `BERTH_USERNAME`/`BERTH_PASSWORD` or `berth configure`.
 */
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { contextWithCommandCredentials, splitCommandCredentials, type Credential } from '../command-credentials.ts';
import { examples, type CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { TableColumn } from '../output.ts';

interface ImportOptions {
  name?: string;
  source: string;
  image?: string[];
  repository?: string[];
  registry?: string;
  force?: boolean;
  wait: boolean;
}

interface ImportJob {
  id: string;
  status: 'Running' | 'Succeeded' | 'Failed';
  targetTags: string[];
  untaggedTargetRepositories: string[];
  digest: string | null;
  progress: {
    manifests: { total: number; copied: number };
    blobs: { total: number; copied: number; linked: number; skipped: number };
    bytes: { total: number; copied: number };
  };
  error: string | null;
  [field: string]: unknown;
}

const POLL_MS = 500;
/** An import still running after this long is left to run; the command stops following it. */
const MAX_FOLLOW_MS = 6 * 3600_000;

const jobTable: TableColumn[] = [
  { header: 'STATUS', value: (job) => job.status },
  { header: 'DIGEST', value: (job) => job.digest },
  { header: 'TARGETS', value: (job) => [...(job.targetTags as string[]), ...(job.untaggedTargetRepositories as string[])].join(', ') },
  { header: 'ID', value: (job) => job.id },
];

/** `-u/-p` before "import" are the caller's; after it, the source registry's. */
export function splitImportCredentials(argv: readonly string[]): { caller: Credential; source: Credential } {
  const { caller, command } = splitCommandCredentials(argv, 'import');
  return { caller, source: command };
}

/** `--registry`: a name, a login server (`host[:port]`) or a resource id (`/registries/<name>`). */
function sourceRegistryFields(registry: string | undefined): { registryUri?: string; resourceId?: string } {
  if (registry === undefined) return {};
  if (registry.startsWith('/registries/')) return { resourceId: registry };
  if (/[.:]/.test(registry)) return { registryUri: registry };
  return { resourceId: `/registries/${registry}` };
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Polls the job until it ends, drawing a progress bar on stderr when it is a terminal. */
async function follow(context: CommandContext, path: string, started: ImportJob): Promise<ImportJob> {
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: 'Importing |{bar}| {percentage}% | {done} of {size} | blobs: {blobs}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const show = (job: ImportJob) => {
    if (!bar) return;
    const { bytes, blobs } = job.progress;
    const total = Math.max(bytes.total, 1);
    const payload = {
      done: formatBytes(bytes.copied),
      size: formatBytes(bytes.total),
      blobs: `${blobs.copied} copied, ${blobs.linked} linked, ${blobs.skipped} present of ${blobs.total}`,
    };
    bar.setTotal(total);
    bar.update(bytes.total === 0 && job.status !== 'Running' ? total : bytes.copied, payload);
  };
  bar?.start(1, 0, { done: '0 B', size: '?', blobs: 'reading the source' });
  let job = started;
  const deadline = Date.now() + MAX_FOLLOW_MS;
  try {
    while (job.status === 'Running') {
      if (Date.now() > deadline) throw new CliError(`the import ${job.id} is still running; follow it with GET /mgmt/v1${path}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      job = await context.client.mgmt<ImportJob>('GET', path);
      show(job);
    }
  } finally {
    bar?.stop();
  }
  return job;
}

export function registerImportCommand(program: Command): void {
  examples(
    program
      .command('import')
      .description('import an image into a registry from another registry (a server-side copy of every platform, manifest and blob)')
      .addOption(new Option('-n, --name <registry>', 'the target registry (default: the configured registry)'))
      .requiredOption('--source <image>', 'the source image: host/repo:tag or host/repo@digest, or repo:tag with --registry')
      .addOption(new Option('-t, --image <repo:tag>', 'a target image; repeatable (default: the source repository and tag)').argParser((value: string, previous: string[] = []) => [...previous, value]))
      .addOption(new Option('--repository <repo>', 'a target repository to import into without a tag; repeatable').argParser((value: string, previous: string[] = []) => [...previous, value]))
      .option('-r, --registry <registry>', 'a source registry of this Berth installation: name, login server or resource id (/registries/<name>)')
      .option('-u, --username <name>', 'user name for the source registry (after "import"; your own comes from before it, the environment or berth configure)')
      .option('-p, --password <password>', 'password for the source registry')
      .option('--force', 'overwrite existing target tags')
      .option('--no-wait', 'return the import job at once instead of following it')
      .action(async (options: ImportOptions, command: Command) => {
        const { context, credential: source } = await contextWithCommandCredentials(command, 'import');
        const registry = context.registry(options.name);
        if ((source.username === undefined) !== (source.password === undefined)) throw new CliError('give both --username and --password for the source registry, or neither');
        const body = {
          source: {
            sourceImage: options.source,
            ...sourceRegistryFields(options.registry),
            ...(source.username !== undefined && { credentials: { username: source.username, password: source.password! } }),
          },
          targetTags: options.image ?? [],
          untaggedTargetRepositories: options.repository ?? [],
          mode: options.force ? 'Force' : 'NoForce',
        };
        const started = await context.client.mgmt<ImportJob>('POST', `/registries/${encodeURIComponent(registry)}/imports`, body);
        if (!options.wait) {
          context.print(started, jobTable);
          return;
        }
        const finished = await follow(context, `/registries/${encodeURIComponent(registry)}/imports/${started.id}`, started);
        if (finished.status === 'Failed') throw new CliError(`the import failed: ${finished.error ?? 'no reason given'}`);
        context.print(finished, jobTable);
      }),
    [
      ['Import an image from Docker Hub.', 'berth import -n contoso --source docker.io/library/hello-world:latest --image hello-world:latest'],
      ['Import every platform of a multi-arch image under two tags.', 'berth import -n contoso --source mcr.microsoft.com/dotnet/runtime:8.0 -t dotnet/runtime:8.0 -t dotnet/runtime:latest'],
      ['Import from a private registry with its credentials, overwriting the tag.', 'berth import -n baseartifacts --source registry.example.com/node:15-alpine --image node:15-alpine --username puller --password "$SOURCE_PASSWORD" --force'],
      ['Import from another registry of this installation; no bytes are copied.', 'berth import -n contoso --registry publicregistry --source node:15-alpine --image base/node:15-alpine'],
      ['Import by digest without a tag.', 'berth import -n contoso --source docker.io/library/alpine@sha256:<digest> --repository alpine'],
      ['Start an import and return at once; follow the job later.', 'berth import -n contoso --source localhost:5001/app:1 --no-wait --query id -o tsv'],
    ],
  );
}
