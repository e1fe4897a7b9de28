/** `berth show-usage`: a registry's storage against its quota, and its counts (`az acr show-usage`). */
import type { Command } from 'commander';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import type { TableColumn } from '../output.ts';

const usageTable: TableColumn[] = [
  { header: 'NAME', value: (item) => item.name },
  { header: 'LIMIT', value: (item) => item.limit },
  { header: 'CURRENT VALUE', value: (item) => item.currentValue },
  { header: 'UNIT', value: (item) => item.unit },
];

export function registerUsageCommand(program: Command): void {
  examples(
    program
      .command('show-usage')
      .description("show a registry's storage (each blob counted once) against its quota, and its webhooks, scope maps, tokens, repositories, manifests and tags")
      .option('-n, --name <name>', 'registry name (default: the configured registry)')
      .action(
        handler<{ name?: string }>(async (options, context) => {
          const registry = context.registry(options.name);
          context.print(await context.client.mgmt('GET', `/registries/${encodeURIComponent(registry)}/usage`), usageTable, listOf);
        }),
      ),
    [
      ['Show the usage of a registry as a table.', 'berth show-usage -n contoso -o table'],
      ['Print the bytes stored.', "berth show-usage -n contoso --query \"value[?name=='Size'].currentValue\" -o tsv"],
    ],
  );
}
