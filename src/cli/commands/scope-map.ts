/** `berth scope-map create|update|show|list|delete`: the repository permissions tokens carry. */
import type { Command } from 'commander';
import { expandRepositoryActions } from '../arguments.ts';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import { CliError } from '../errors.ts';
import type { TableColumn } from '../output.ts';
import { confirm } from '../prompt.ts';

const scopeMapTable: TableColumn[] = [
  { header: 'NAME', value: (map) => map.name },
  { header: 'TYPE', value: (map) => map.type },
  { header: 'CREATION DATE', value: (map) => map.creationDate },
  { header: 'DESCRIPTION', value: (map) => map.description },
];

const actionsHelp = 'actions: content/read content/write content/delete metadata/read metadata/write; REPO may be * or a prefix like samples/*';

function scopeMapsPath(registry: string, name?: string): string {
  const base = `/registries/${encodeURIComponent(registry)}/scope-maps`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

function checkDescription(description: string | undefined): void {
  if (description !== undefined && description.length > 256) throw new CliError('--description: at most 256 characters');
}

export function registerScopeMapCommands(program: Command): void {
  const scopeMap = examples(program.command('scope-map').description('manage scope maps: the repository permissions of tokens'), [
    ['Create a scope map and a token bound to it.', 'berth scope-map create -n readers -r contoso --repository hello-world content/read && berth token create -n reader1 -r contoso --scope-map readers'],
  ]);

  examples(
    scopeMap
      .command('create')
      .description('create a scope map')
      .requiredOption('-n, --name <name>', 'scope map name')
      .option('-r, --registry <registry>', 'registry name (default: the configured registry)')
      .option('--repository <REPO ACTION...>', `a repository and its actions; repeatable (${actionsHelp})`)
      .option('--description <text>', 'description, up to 256 characters')
      .action(
        handler<{ name: string; registry?: string; repository?: string[]; description?: string }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          if (!options.repository) throw new CliError('give at least one --repository REPO ACTION...');
          checkDescription(options.description);
          const body = { name: options.name, actions: expandRepositoryActions(options.repository), ...(options.description !== undefined && { description: options.description }) };
          context.print(await context.client.mgmt('POST', scopeMapsPath(registry), body), scopeMapTable);
        }),
      ),
    [
      ['Read and write hello-world, read samples/*.', 'berth scope-map create -n team-a -r contoso --repository hello-world content/write content/read --repository "samples/*" content/read --description "team A"'],
    ],
  );

  examples(
    scopeMap
      .command('update')
      .description('add or remove repository actions, or change the description')
      .requiredOption('-n, --name <name>', 'scope map name')
      .option('-r, --registry <registry>', 'registry name (default: the configured registry)')
      .option('--add-repository <REPO ACTION...>', 'actions to add; repeatable')
      .option('--remove-repository <REPO ACTION...>', 'actions to remove; repeatable')
      .option('--description <text>', 'new description')
      .action(
        handler<{ name: string; registry?: string; addRepository?: string[]; removeRepository?: string[]; description?: string }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          if (!options.addRepository && !options.removeRepository && options.description === undefined) {
            throw new CliError('nothing to update: give --add-repository, --remove-repository or --description');
          }
          checkDescription(options.description);
          const body = {
            ...(options.addRepository && { addActions: expandRepositoryActions(options.addRepository, '--add-repository') }),
            ...(options.removeRepository && { removeActions: expandRepositoryActions(options.removeRepository, '--remove-repository') }),
            ...(options.description !== undefined && { description: options.description }),
          };
          context.print(await context.client.mgmt('PATCH', scopeMapsPath(registry, options.name), body), scopeMapTable);
        }),
      ),
    [
      ['Allow deleting hello-world and stop writing it.', 'berth scope-map update -n team-a -r contoso --add-repository hello-world content/delete --remove-repository hello-world content/write'],
    ],
  );

  examples(
    scopeMap
      .command('show')
      .description('show a scope map')
      .requiredOption('-n, --name <name>', 'scope map name')
      .option('-r, --registry <registry>', 'registry name (default: the configured registry)')
      .action(
        handler<{ name: string; registry?: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', scopeMapsPath(context.registry(options.registry, '-r/--registry'), options.name)), scopeMapTable);
        }),
      ),
    [['Show the actions of a built-in scope map.', 'berth scope-map show -n _repositories_pull -r contoso --query actions']],
  );

  examples(
    scopeMap
      .command('list')
      .description("list a registry's scope maps, the built-in ones included")
      .option('-r, --registry <registry>', 'registry name (default: the configured registry)')
      .action(
        handler<{ registry?: string }>(async (options, context) => {
          context.print(listOf(await context.client.mgmt('GET', scopeMapsPath(context.registry(options.registry, '-r/--registry')))), scopeMapTable);
        }),
      ),
    [['List scope maps.', 'berth scope-map list -r contoso -o table']],
  );

  examples(
    scopeMap
      .command('delete')
      .description('delete a scope map')
      .requiredOption('-n, --name <name>', 'scope map name')
      .option('-r, --registry <registry>', 'registry name (default: the configured registry)')
      .option('-y, --yes', 'do not prompt for confirmation')
      .action(
        handler<{ name: string; registry?: string; yes?: boolean }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          await confirm(`Are you sure you want to delete the scope map '${options.name}'?`, options.yes);
          await context.client.mgmt('DELETE', scopeMapsPath(registry, options.name));
        }),
      ),
    [['Delete a scope map.', 'berth scope-map delete -n team-a -r contoso --yes']],
  );
}
