/**
 * `berth mirror create|list|show|history|rollback|delete`: the gate as one object. A mirror
 * watches an upstream tag, stages each new digest in `staging/<repo>`, validates it with a task
 * run, and only then moves the target tag (plus a unique tag for rollback).
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { parsePositiveInt } from '../arguments.ts';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import { CliError } from '../errors.ts';
import type { TableColumn } from '../output.ts';
import { confirm } from '../prompt.ts';

const MAX_TASK_FILE_BYTES = 1024 * 1024;

const shortDigest = (digest: unknown) => (typeof digest === 'string' ? digest.slice(0, 19) : '');

const mirrorTable: TableColumn[] = [
  { header: 'NAME', value: (mirror) => mirror.name },
  { header: 'SOURCE', value: (mirror) => mirror.source },
  { header: 'IMAGE', value: (mirror) => mirror.image },
  { header: 'WATCH', value: (mirror) => mirror.watch },
  { header: 'VALIDATION', value: (mirror) => (mirror.validation as { type?: string } | undefined)?.type ?? '' },
  { header: 'CURRENT', value: (mirror) => shortDigest(mirror.currentDigest) },
  { header: 'LAST SOURCE', value: (mirror) => shortDigest(mirror.lastSourceDigest) },
];

const historyTable: TableColumn[] = [
  { header: 'ID', value: (entry) => entry.id },
  { header: 'STATUS', value: (entry) => entry.status },
  { header: 'DIGEST', value: (entry) => shortDigest(entry.digest) },
  { header: 'RUN ID', value: (entry) => entry.runId ?? '' },
  { header: 'UNIQUE TAG', value: (entry) => entry.uniqueTag ?? '' },
  { header: 'CREATED', value: (entry) => entry.createTime },
  { header: 'MESSAGE', value: (entry) => entry.message ?? '' },
];

function mirrorsPath(registry: string, name?: string, action?: string): string {
  const base = `/registries/${encodeURIComponent(registry)}/mirrors`;
  if (name === undefined) return base;
  return `${base}/${encodeURIComponent(name)}${action ? `/${action}` : ''}`;
}

async function readValidateFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`--validate-file ${file}: ${(error as Error).message}`);
  }
  if (Buffer.byteLength(text) > MAX_TASK_FILE_BYTES) throw new CliError(`--validate-file ${file}: larger than 1 MiB`);
  if (text.trim() === '') throw new CliError(`--validate-file ${file}: the task file is empty`);
  return text;
}

const registryOption = () => new Option('-r, --registry <registry>', 'registry name (default: the configured registry)');
const nameOption = () => new Option('-n, --name <name>', 'mirror name').makeOptionMandatory();

interface CreateOptions {
  name: string;
  registry?: string;
  source: string;
  image: string;
  validateFile?: string;
  validateCmd?: string;
  keepUniqueTags?: number;
  schedule?: string;
  pollInterval?: number;
  sourceUsername?: string;
  sourcePassword?: string;
}

export function registerMirrorCommands(program: Command): void {
  const mirror = examples(
    program.command('mirror').description('manage mirrors: an upstream tag copied into a registry only after its validation passes'),
    [
      [
        'Mirror a public image into contoso, promoting only digests whose background is not Red.',
        `berth mirror create -n node -r contoso --source publicregistry/node:15-alpine --image node:15-alpine --validate-cmd '{{.Values.STAGED_IMAGE}} sh -c "test \\"$BACKGROUND_COLOR\\" != Red"'`,
      ],
    ],
  );

  examples(
    mirror
      .command('create')
      .description('create a mirror; the upstream tag is staged, validated and promoted within seconds, then on every change')
      .addOption(nameOption())
      .addOption(registryOption())
      .requiredOption('--source <image>', '<registry-name>/<repo>:<tag> or <login-server>/<repo>:<tag> (another registry of this Berth, or an external one)')
      .requiredOption('--image <repo:tag>', 'the target image in the registry')
      .option('--validate-file <file>', 'a task file (acr-task.yaml) that validates {{.Values.STAGED_IMAGE}}')
      .option('--validate-cmd <command>', 'one command that validates it: "<image> <args>", e.g. "{{.Values.STAGED_IMAGE}} ./test.sh"')
      .addOption(new Option('--keep-unique-tags <n>', 'unique tags kept for rollback (default: all)').argParser(parsePositiveInt))
      .option('--schedule <cron>', 'when an external source is polled: a cron expression in UTC, e.g. "*/10 * * * *"')
      .addOption(new Option('--poll-interval <seconds>', 'seconds between polls of an external source (default: the server\'s, 600)').argParser(parsePositiveInt))
      .option('--source-username <name>', 'user name for an external source (clear text or a secret URI)')
      .option('--source-password <password>', 'its password (clear text or a secret URI); stored sealed')
      .action(
        handler<CreateOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          if (options.validateFile !== undefined && options.validateCmd !== undefined) throw new CliError('give --validate-file or --validate-cmd, not both');
          const body = {
            name: options.name,
            source: options.source,
            image: options.image,
            ...(options.validateCmd !== undefined && { validateCmd: options.validateCmd }),
            ...(options.validateFile !== undefined && { validateTaskFile: await readValidateFile(options.validateFile) }),
            ...(options.keepUniqueTags !== undefined && { keepUniqueTags: options.keepUniqueTags }),
            ...(options.schedule !== undefined && { schedule: options.schedule }),
            ...(options.pollInterval !== undefined && { pollIntervalSeconds: options.pollInterval }),
            ...(options.sourceUsername !== undefined && { sourceUsername: options.sourceUsername }),
            ...(options.sourcePassword !== undefined && { sourcePassword: options.sourcePassword }),
          };
          context.print(await context.client.mgmt('POST', mirrorsPath(registry), body), mirrorTable);
        }),
      ),
    [
      ['Gate a public image with a task file, keeping 5 unique tags.', 'berth mirror create -n node -r contoso --source publicregistry/node:15-alpine --image node:15-alpine --validate-file acr-task.yaml --keep-unique-tags 5'],
      [
        'Mirror an external registry hourly with credentials from the secret store.',
        "berth mirror create -n app -r contoso --source registry.example.com/team/app:1 --image app:1 --schedule '0 * * * *' --source-username puller --source-password https://berthkv.vault.azure.net/secrets/puller-password",
      ],
    ],
  );

  examples(
    mirror
      .command('list')
      .description("list a registry's mirrors")
      .addOption(registryOption())
      .action(
        handler<{ registry?: string }>(async (options, context) => {
          context.print(listOf(await context.client.mgmt('GET', mirrorsPath(context.registry(options.registry, '-r/--registry')))), mirrorTable);
        }),
      ),
    [['List mirrors.', 'berth mirror list -r contoso -o table']],
  );

  examples(
    mirror
      .command('show')
      .description('show a mirror: its source, target, validation and the digests it last saw and promoted')
      .addOption(nameOption())
      .addOption(registryOption())
      .action(
        handler<{ name: string; registry?: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', mirrorsPath(context.registry(options.registry, '-r/--registry'), options.name)), mirrorTable);
        }),
      ),
    [['Print the digest a mirror last promoted.', 'berth mirror show -n node -r contoso --query currentDigest -o tsv']],
  );

  examples(
    mirror
      .command('history')
      .description("a mirror's history, newest first: each upstream digest (Staged, Validating, Promoted, Failed) and each rollback")
      .addOption(nameOption())
      .addOption(registryOption())
      .addOption(new Option('--top <n>', 'at most this many entries').argParser(parsePositiveInt))
      .action(
        handler<{ name: string; registry?: string; top?: number }>(async (options, context) => {
          const path = mirrorsPath(context.registry(options.registry, '-r/--registry'), options.name, 'history');
          context.print(listOf(await context.client.mgmt('GET', options.top === undefined ? path : `${path}?top=${options.top}`)), historyTable);
        }),
      ),
    [['Show why the last digests failed.', "berth mirror history -n node -r contoso --query \"[?status=='Failed'].[digest,message]\" -o tsv"]],
  );

  examples(
    mirror
      .command('rollback')
      .description('move the target tag back to the digest promoted before the current one, or to a digest or unique tag it promoted')
      .addOption(nameOption())
      .addOption(registryOption())
      .option('--to <digest-or-unique-tag>', 'the digest or unique tag to go back to (default: the one promoted before)')
      .action(
        handler<{ name: string; registry?: string; to?: string }>(async (options, context) => {
          const body = options.to === undefined ? {} : { to: options.to };
          context.print(await context.client.mgmt('POST', mirrorsPath(context.registry(options.registry, '-r/--registry'), options.name, 'rollback'), body), historyTable);
        }),
      ),
    [
      ['Undo the last promotion.', 'berth mirror rollback -n node -r contoso'],
      ['Go back to a unique tag.', 'berth mirror rollback -n node -r contoso --to 15-alpine-ca1'],
    ],
  );

  examples(
    mirror
      .command('delete')
      .description('delete a mirror and its history; the images it staged and promoted stay')
      .addOption(nameOption())
      .addOption(registryOption())
      .option('-y, --yes', 'do not prompt for confirmation')
      .action(
        handler<{ name: string; registry?: string; yes?: boolean }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          await confirm(`Are you sure you want to delete the mirror '${options.name}'?`, options.yes);
          await context.client.mgmt('DELETE', mirrorsPath(registry, options.name));
        }),
      ),
    [['Delete a mirror.', 'berth mirror delete -n node -r contoso --yes']],
  );
}
