/** `berth gc run [--dry-run]`: online garbage collection of the installation (its owner only). */
import type { Command } from 'commander';
import { examples, handler } from '../context.ts';
import type { TableColumn } from '../output.ts';

const count = (field: string) => (report: Record<string, unknown>) => (report[field] as unknown[] | undefined)?.length ?? 0;

const reportTable: TableColumn[] = [
  { header: 'DRY RUN', value: (report) => report.dryRun },
  { header: 'UNLINKED BLOBS', value: count('unlinkedBlobs') },
  { header: 'DELETED BLOBS', value: count('deletedBlobs') },
  { header: 'EXPIRED UPLOADS', value: count('expiredUploads') },
  { header: 'RECLAIMED BYTES', value: (report) => report.reclaimedBytes },
  { header: 'STARTED', value: (report) => report.startedAt },
  { header: 'FINISHED', value: (report) => report.finishedAt },
];

export function registerGcCommands(program: Command): void {
  const gc = examples(program.command('gc').description('garbage collection: reclaim blobs no manifest references, and abandoned uploads'), [
    ['Collect garbage now.', 'berth gc run'],
  ]);
  examples(
    gc
      .command('run')
      .description(
        'collect now, while the registries keep serving: blob links no manifest uses and blobs nothing references, once older than the grace period (gc.gracePeriodSeconds), and upload sessions idle past their TTL',
      )
      .option('--dry-run', 'only list what a run would reclaim now, deleting nothing')
      .action(
        handler<{ dryRun?: boolean }>(async (options, context) => {
          context.print(await context.client.mgmt('POST', '/gc/runs', { dryRun: options.dryRun === true }), reportTable);
        }),
      ),
    [
      ['See what a collection would reclaim, blob by blob.', 'berth gc run --dry-run'],
      ['Collect now and print a summary.', 'berth gc run -o table'],
      ['Print only the bytes a run would free.', 'berth gc run --dry-run --query reclaimedBytes -o tsv'],
    ],
  );
}
