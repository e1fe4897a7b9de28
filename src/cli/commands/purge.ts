/** `berth purge`: acr purge's tag and untagged-manifest clean-up, run by the server. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parsePositiveInt } from '../arguments.ts';
import { examples, handler } from '../context.ts';
import type { TableColumn } from '../output.ts';

interface PurgeOptions {
  registry?: string;
  filter?: string[];
  ago?: string;
  keep?: number;
  untagged?: boolean;
  untaggedOnly?: boolean;
  dryRun?: boolean;
  includeLocked?: boolean;
  concurrency?: number;
}

interface Report {
  tags: { repository: string; tag: string; digest: string }[];
  manifests: { repository: string; digest: string; reason: string }[];
  failed: { repository: string; tag?: string; digest?: string; error: string }[];
}

function parseCount(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError('expected a whole number, 0 or more.');
  return number;
}

/** One row per deleted (or, with --dry-run, to-be-deleted) tag or manifest, and per failure. */
function rowsOf(value: unknown): unknown[] {
  const report = value as Report;
  return [
    ...report.tags.map((tag) => ({ kind: 'tag', item: `${tag.repository}:${tag.tag}`, note: '' })),
    ...report.manifests.map((manifest) => ({ kind: 'manifest', item: `${manifest.repository}@${manifest.digest}`, note: manifest.reason })),
    ...report.failed.map((failure) => ({ kind: 'failed', item: `${failure.repository}${failure.tag ? `:${failure.tag}` : `@${failure.digest}`}`, note: failure.error })),
  ];
}

const rowTable: TableColumn[] = [
  { header: 'KIND', value: (row) => row.kind },
  { header: 'ITEM', value: (row) => row.item },
  { header: 'NOTE', value: (row) => row.note },
];

export function registerPurgeCommand(program: Command): void {
  examples(
    program
      .command('purge')
      .description('delete tags by name and age, and manifests left without tags (acr purge), run by the server')
      .addOption(new Option('-r, --registry <registry>', 'registry name (default: the configured registry)'))
      .addOption(
        new Option('-f, --filter <repo-regex:tag-regex>', "repeatable; the repository regex must match the whole name, the tag regex anywhere in the tag ('app:.*', 'app:^v1\\.')").argParser(
          (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
        ),
      )
      .addOption(new Option('--ago <duration>', '[N]d plus a Go duration (2d3h6m, 0d): only tags and untagged manifests last updated before now minus this (required unless --untagged-only)'))
      .addOption(new Option('--keep <n>', 'keep the N most recently updated of the matching tags').argParser(parseCount))
      .addOption(new Option('--untagged', 'after the tags, also delete manifests left without tags (not those an index or a subject still needs)').conflicts('untaggedOnly'))
      .addOption(new Option('--untagged-only', 'delete only manifests without tags, no tags (the filter is optional and only its repository part is used)'))
      .addOption(new Option('--dry-run', 'only list what a run would delete, deleting nothing'))
      .addOption(new Option('--include-locked', 'unlock (delete-enabled, write-enabled) locked tags and manifests and delete them too'))
      .addOption(new Option('--concurrency <n>', 'parallel deletes, 1-32').argParser(parsePositiveInt))
      .action(
        handler<PurgeOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          const body = {
            filters: options.filter ?? [],
            ...(options.ago !== undefined ? { ago: options.ago } : {}),
            ...(options.keep !== undefined ? { keep: options.keep } : {}),
            untagged: options.untagged === true,
            untaggedOnly: options.untaggedOnly === true,
            dryRun: options.dryRun === true,
            includeLocked: options.includeLocked === true,
            ...(options.concurrency !== undefined ? { concurrency: Math.min(options.concurrency, 32) } : {}),
          };
          context.print(await context.client.mgmt('POST', `/registries/${encodeURIComponent(registry)}/purge`, body), rowTable, rowsOf);
        }),
      ),
    [
      ['See what deleting every tag of hello-world older than a day would delete.', "berth purge -r contoso --filter 'hello-world:.*' --ago 1d --dry-run -o table"],
      ['Delete tags starting with v older than a week, keeping the newest 2, and the manifests they leave untagged.', "berth purge -r contoso --filter 'app:^v' --ago 7d --keep 2 --untagged"],
      ['Delete only untagged manifests of app.', "berth purge -r contoso --filter 'app:.*' --ago 0d --untagged-only"],
    ],
  );
}
