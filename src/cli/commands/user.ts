/** `berth user create|list|show|delete|reset-password`: the installation's users. */
import type { Command } from 'commander';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import type { TableColumn } from '../output.ts';
import { confirm, readStdinSecret } from '../prompt.ts';

const userTable: TableColumn[] = [
  { header: 'USERNAME', value: (user) => user.username },
  { header: 'PRINCIPAL ID', value: (user) => user.principalId },
  { header: 'OWNER', value: (user) => user.owner },
  { header: 'CREATED', value: (user) => user.createdAt },
];

/** The table of a create or reset: the generated password too, when there is one. */
const userWithPasswordTable: TableColumn[] = [...userTable, { header: 'PASSWORD', value: (user) => user.password }];

function userPath(name: string): string {
  return `/users/${encodeURIComponent(name)}`;
}

async function passwordBody(passwordStdin: boolean | undefined): Promise<{ password?: string }> {
  return passwordStdin ? { password: await readStdinSecret() } : {};
}

export function registerUserCommands(program: Command): void {
  const user = examples(program.command('user').description('manage the users of the installation'), [
    ['Create a user and let it push to a registry.', 'berth user create -n alice && berth role assignment create --assignee alice --role AcrPush --scope /registries/contoso'],
  ]);

  examples(
    user
      .command('create')
      .description('create a user; without --password-stdin a password is generated and printed once')
      .requiredOption('-n, --name <username>', 'user name')
      .option('--password-stdin', "read the new user's password from stdin")
      .action(
        handler<{ name: string; passwordStdin?: boolean }>(async (options, context) => {
          const body = { username: options.name, ...(await passwordBody(options.passwordStdin)) };
          context.print(await context.client.mgmt('POST', '/users', body), userWithPasswordTable);
        }),
      ),
    [
      ['Create a user with a generated password.', 'berth user create -n alice'],
      ['Create a user with a chosen password.', 'printf %s "$ALICE_PASSWORD" | berth user create -n alice --password-stdin'],
    ],
  );

  examples(
    user
      .command('list')
      .description('list users')
      .action(
        handler<object>(async (_options, context) => {
          context.print(listOf(await context.client.mgmt('GET', '/users')), userTable);
        }),
      ),
    [['List user names.', 'berth user list --query "[].username" -o tsv']],
  );

  examples(
    user
      .command('show')
      .description('show a user')
      .requiredOption('-n, --name <username>', 'user name')
      .action(
        handler<{ name: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', userPath(options.name)), userTable);
        }),
      ),
    [["Show a user's principal id, e.g. for --assignee.", 'berth user show -n alice --query principalId -o tsv']],
  );

  examples(
    user
      .command('delete')
      .description('delete a user, its role assignments and its refresh tokens')
      .requiredOption('-n, --name <username>', 'user name')
      .option('-y, --yes', 'do not prompt for confirmation')
      .action(
        handler<{ name: string; yes?: boolean }>(async (options, context) => {
          await confirm(`Are you sure you want to delete the user '${options.name}'?`, options.yes);
          await context.client.mgmt('DELETE', userPath(options.name));
        }),
      ),
    [['Delete a user.', 'berth user delete -n alice --yes']],
  );

  examples(
    user
      .command('reset-password')
      .description("set a user's password; without --password-stdin a new one is generated and printed once")
      .requiredOption('-n, --name <username>', 'user name')
      .option('--password-stdin', 'read the new password from stdin')
      .action(
        handler<{ name: string; passwordStdin?: boolean }>(async (options, context) => {
          const body = await passwordBody(options.passwordStdin);
          context.print(await context.client.mgmt('POST', `${userPath(options.name)}/reset-password`, body), userWithPasswordTable);
        }),
      ),
    [
      ['Generate a new password.', 'berth user reset-password -n alice --query password -o tsv'],
      ['Set a chosen password.', 'printf %s "$NEW_PASSWORD" | berth user reset-password -n alice --password-stdin'],
    ],
  );
}
