/** `berth role assignment create|list|delete`: ACR's roles granted at installation, registry or repository scope. */
import { Option, type Command } from 'commander';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import { CliError } from '../errors.ts';
import type { TableColumn } from '../output.ts';

export const roleNames = ['Owner', 'Contributor', 'Reader', 'AcrPush', 'AcrPull', 'AcrDelete', 'AcrImageSigner', 'AcrQuarantineReader', 'AcrQuarantineWriter'];

const assignmentTable: TableColumn[] = [
  { header: 'PRINCIPAL', value: (assignment) => assignment.principalName },
  { header: 'TYPE', value: (assignment) => assignment.principalType },
  { header: 'ROLE', value: (assignment) => assignment.roleDefinitionName },
  { header: 'SCOPE', value: (assignment) => assignment.scope },
  { header: 'ID', value: (assignment) => assignment.id },
];

interface Filter {
  assignee?: string;
  role?: string;
  scope?: string;
}

function filterQuery(filter: Filter): string {
  const query = new URLSearchParams();
  for (const key of ['assignee', 'role', 'scope'] as const) if (filter[key] !== undefined) query.set(key, filter[key]);
  const text = query.toString();
  return text ? `?${text}` : '';
}

const scopeHelp = 'scope: / (installation), /registries/<r>, /registries/<r>/repositories/<repo> (a trailing /* covers a prefix)';

export function registerRoleCommands(program: Command): void {
  const role = examples(program.command('role').description('manage role assignments'), [
    ['Let a user pull from a registry.', 'berth role assignment create --assignee alice --role AcrPull --scope /registries/contoso'],
  ]);
  const assignment = examples(role.command('assignment').description('grant roles to users and service principals'), [
    ['List every assignment at a registry.', 'berth role assignment list --scope /registries/contoso -o table'],
  ]);

  examples(
    assignment
      .command('create')
      .description('grant a role to a user or service principal at a scope')
      .requiredOption('--assignee <principal>', 'user name, service principal app id, or principal id')
      .addOption(new Option('--role <role>', 'role name').choices(roleNames).makeOptionMandatory())
      .requiredOption('--scope <scope>', scopeHelp)
      .action(
        handler<Required<Filter>>(async (options, context) => {
          const body = { assignee: options.assignee, role: options.role, scope: options.scope };
          context.print(await context.client.mgmt('POST', '/role-assignments', body), assignmentTable);
        }),
      ),
    [
      ['Let a user push to one registry.', 'berth role assignment create --assignee alice --role AcrPush --scope /registries/contoso'],
      ['Let a service principal pull the samples/* repositories.', 'berth role assignment create --assignee $APP_ID --role AcrPull --scope "/registries/contoso/repositories/samples/*"'],
    ],
  );

  examples(
    assignment
      .command('list')
      .description('list role assignments')
      .option('--assignee <principal>', 'only those of this principal')
      .addOption(new Option('--role <role>', 'only this role').choices(roleNames))
      .option('--scope <scope>', 'only at this scope')
      .action(
        handler<Filter>(async (options, context) => {
          context.print(listOf(await context.client.mgmt('GET', `/role-assignments${filterQuery(options)}`)), assignmentTable);
        }),
      ),
    [
      ['List the assignments of a user.', 'berth role assignment list --assignee alice -o table'],
      ['List who has AcrPush on a registry.', 'berth role assignment list --scope /registries/contoso --role AcrPush --query "[].principalName" -o tsv'],
    ],
  );

  examples(
    assignment
      .command('delete')
      .description('remove role assignments by id, or all that match --assignee/--role/--scope')
      .option('--ids <id...>', 'role assignment ids')
      .option('--assignee <principal>', 'remove those of this principal')
      .addOption(new Option('--role <role>', 'remove those of this role').choices(roleNames))
      .option('--scope <scope>', 'remove those at this scope')
      .action(
        handler<Filter & { ids?: string[] }>(async (options, context) => {
          const filtered = options.assignee !== undefined || options.role !== undefined || options.scope !== undefined;
          if (options.ids && filtered) throw new CliError('give either --ids or --assignee/--role/--scope, not both');
          if (!options.ids && !filtered) throw new CliError('give --ids, or --assignee/--role/--scope to choose the assignments to remove');
          const ids =
            options.ids ?? (listOf(await context.client.mgmt('GET', `/role-assignments${filterQuery(options)}`)) as { id: string }[]).map((entry) => entry.id);
          for (const id of ids) await context.client.mgmt('DELETE', `/role-assignments/${encodeURIComponent(id)}`);
        }),
      ),
    [
      ['Remove one assignment.', 'berth role assignment delete --ids 7d3f0a52-...'],
      ['Remove AcrPush of a user on a registry.', 'berth role assignment delete --assignee alice --role AcrPush --scope /registries/contoso'],
    ],
  );
}
