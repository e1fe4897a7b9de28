/** `berth sp create|list|show|delete`: service principals (app id + generated secret), as `az ad sp`. */
import { Option, type Command } from 'commander';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import type { TableColumn } from '../output.ts';
import { confirm } from '../prompt.ts';
import { roleNames } from './role.ts';

const spTable: TableColumn[] = [
  { header: 'DISPLAY NAME', value: (sp) => sp.displayName },
  { header: 'APP ID', value: (sp) => sp.appId },
  { header: 'PRINCIPAL ID', value: (sp) => sp.principalId },
  { header: 'CREATED', value: (sp) => sp.createdAt },
];

const createdTable: TableColumn[] = [
  { header: 'APP ID', value: (sp) => sp.appId },
  { header: 'DISPLAY NAME', value: (sp) => sp.displayName },
  { header: 'PASSWORD', value: (sp) => sp.password },
  { header: 'TENANT', value: (sp) => sp.tenant },
];

function spPath(appId: string): string {
  return `/service-principals/${encodeURIComponent(appId)}`;
}

export function registerSpCommands(program: Command): void {
  const sp = examples(program.command('sp').description('manage service principals: non-human identities for pipelines and tools'), [
    ['Create a service principal for a pipeline that pushes.', 'berth sp create -n ci-pipeline --role AcrPush --scopes /registries/contoso'],
  ]);

  examples(
    sp
      .command('create')
      .description('create a service principal; its password is printed once')
      .requiredOption('-n, --name <name>', 'display name')
      .addOption(new Option('--role <role>', 'assign this role at --scopes as well').choices(roleNames))
      .option('--scopes <scope...>', 'scopes of the role: /, /registries/<r> or /registries/<r>/repositories/<repo>')
      .action(
        handler<{ name: string; role?: string; scopes?: string[] }>(async (options, context) => {
          const body = { name: options.name, ...(options.role !== undefined && { role: options.role, scopes: options.scopes ?? [] }) };
          context.print(await context.client.mgmt('POST', '/service-principals', body), createdTable);
        }),
      ),
    [
      ['Create a service principal that can push to one registry.', 'berth sp create -n ci-pipeline --role AcrPush --scopes /registries/contoso'],
      ['Keep the app id and password for docker login.', 'berth sp create -n ci-pipeline --query "[appId, password]" -o tsv'],
    ],
  );

  examples(
    sp
      .command('list')
      .description('list service principals')
      .action(
        handler<object>(async (_options, context) => {
          context.print(listOf(await context.client.mgmt('GET', '/service-principals')), spTable);
        }),
      ),
    [['List app ids and names.', 'berth sp list -o table']],
  );

  examples(
    sp
      .command('show')
      .description('show a service principal')
      .requiredOption('--id <appId>', 'app id')
      .action(
        handler<{ id: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', spPath(options.id)), spTable);
        }),
      ),
    [['Show a service principal.', 'berth sp show --id 3f1c2a5e-0000-4000-8000-1234567890ab']],
  );

  examples(
    sp
      .command('delete')
      .description('delete a service principal with its role assignments')
      .requiredOption('--id <appId>', 'app id')
      .option('-y, --yes', 'do not prompt for confirmation')
      .action(
        handler<{ id: string; yes?: boolean }>(async (options, context) => {
          await confirm(`Are you sure you want to delete the service principal '${options.id}'?`, options.yes);
          await context.client.mgmt('DELETE', spPath(options.id));
        }),
      ),
    [['Delete a service principal.', 'berth sp delete --id 3f1c2a5e-0000-4000-8000-1234567890ab --yes']],
  );
}
