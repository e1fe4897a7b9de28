/** `berth token create|update|show|list|delete` and `token credential generate`: ACR's repository-scoped tokens. */
import { Option, type Command } from 'commander';
import { expandRepositoryActions, expiryFrom, parsePositiveInt } from '../arguments.ts';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import { CliError } from '../errors.ts';
import type { TableColumn } from '../output.ts';
import { confirm } from '../prompt.ts';

interface PasswordView {
  name: string;
  expiry?: string | null;
}

function expiryOf(token: Record<string, unknown>, name: string): unknown {
  const passwords = (token.credentials as { passwords?: PasswordView[] } | undefined)?.passwords ?? [];
  return passwords.find((password) => password.name === name)?.expiry;
}

const tokenTable: TableColumn[] = [
  { header: 'NAME', value: (token) => token.name },
  { header: 'SCOPE MAP', value: (token) => String(token.scopeMapId ?? '').split('/').at(-1) },
  { header: 'PASSWORD1 EXPIRY', value: (token) => expiryOf(token, 'password1') },
  { header: 'PASSWORD2 EXPIRY', value: (token) => expiryOf(token, 'password2') },
  { header: 'STATUS', value: (token) => token.status },
  { header: 'CREATION DATE', value: (token) => token.creationDate },
];

function tokensPath(registry: string, name?: string): string {
  const base = `/registries/${encodeURIComponent(registry)}/tokens`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

const statusOption = () => new Option('--status <status>', 'enabled or disabled').choices(['enabled', 'disabled']);
const registryOption = () => new Option('-r, --registry <registry>', 'registry name (default: the configured registry)');

interface ExpiryOptions {
  expirationInDays?: number;
  expiration?: string;
}

function addExpiryOptions(command: Command): Command {
  return command
    .option('--expiration-in-days <days>', 'passwords expire after this many days (default: never)', parsePositiveInt)
    .option('--expiration <datetime>', 'passwords expire at this UTC time, e.g. 2025-12-31T12:59:59Z');
}

export function registerTokenCommands(program: Command): void {
  const token = examples(program.command('token').description('manage tokens: repository-scoped credentials of one registry'), [
    ['Create a pull token and log in with it.', 'berth token create -n ci-pull -r contoso --scope-map _repositories_pull --query "credentials.passwords[0].value" -o tsv | docker login -u ci-pull --password-stdin contoso.localhost:5000'],
  ]);

  examples(
    addExpiryOptions(
      token
        .command('create')
        .description('create a token with a scope map, or with --repository actions (making <name>-scope-map); passwords are printed once')
        .requiredOption('-n, --name <name>', 'token name (its user name)')
        .addOption(registryOption())
        .option('--scope-map <name>', 'an existing scope map, e.g. _repositories_pull')
        .option('--repository <REPO ACTION...>', 'a repository and its actions; repeatable')
        .addOption(statusOption().default('enabled'))
        .option('--no-passwords', 'create the token without passwords (generate them later)'),
    ).action(
      handler<{ name: string; registry?: string; scopeMap?: string; repository?: string[]; status: string; passwords: boolean } & ExpiryOptions>(
        async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          if ((options.scopeMap === undefined) === (options.repository === undefined)) throw new CliError('give either --scope-map or --repository, and not both');
          const expiry = expiryFrom(options);
          if (!options.passwords && expiry !== undefined) throw new CliError('--no-passwords cannot be combined with an expiration');
          const body = {
            name: options.name,
            ...(options.scopeMap !== undefined ? { scopeMapName: options.scopeMap } : { actions: expandRepositoryActions(options.repository ?? []) }),
            status: options.status,
            ...(!options.passwords && { noPasswords: true }),
            ...(expiry !== undefined && { expiry }),
          };
          context.print(await context.client.mgmt('POST', tokensPath(registry), body), tokenTable);
        },
      ),
    ),
    [
      ['Create a pull-only token and keep its password.', 'berth token create -n ci-pull -r contoso --scope-map _repositories_pull -o tsv --query "credentials.passwords[0].value"'],
      ['Create a token that may pull one repository, expiring in 30 days.', 'berth token create -n hello-reader -r contoso --repository hello-world content/read --expiration-in-days 30'],
    ],
  );

  examples(
    token
      .command('update')
      .description("change a token's scope map or status")
      .requiredOption('-n, --name <name>', 'token name')
      .addOption(registryOption())
      .option('--scope-map <name>', 'the scope map to use from now on')
      .addOption(statusOption())
      .action(
        handler<{ name: string; registry?: string; scopeMap?: string; status?: string }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          if (options.scopeMap === undefined && options.status === undefined) throw new CliError('nothing to update: give --scope-map or --status');
          const body = { ...(options.scopeMap !== undefined && { scopeMapName: options.scopeMap }), ...(options.status !== undefined && { status: options.status }) };
          context.print(await context.client.mgmt('PATCH', tokensPath(registry, options.name), body), tokenTable);
        }),
      ),
    [
      ['Disable a token.', 'berth token update -n ci-pull -r contoso --status disabled'],
      ['Give a token push rights.', 'berth token update -n ci-pull -r contoso --scope-map _repositories_push'],
    ],
  );

  examples(
    token
      .command('show')
      .description('show a token (without password values)')
      .requiredOption('-n, --name <name>', 'token name')
      .addOption(registryOption())
      .action(
        handler<{ name: string; registry?: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', tokensPath(context.registry(options.registry, '-r/--registry'), options.name)), tokenTable);
        }),
      ),
    [['Show the status of a token.', 'berth token show -n ci-pull -r contoso --query status -o tsv']],
  );

  examples(
    token
      .command('list')
      .description("list a registry's tokens")
      .addOption(registryOption())
      .action(
        handler<{ registry?: string }>(async (options, context) => {
          context.print(listOf(await context.client.mgmt('GET', tokensPath(context.registry(options.registry, '-r/--registry')))), tokenTable);
        }),
      ),
    [['List tokens.', 'berth token list -r contoso -o table']],
  );

  examples(
    token
      .command('delete')
      .description('delete a token; its credentials stop working at once')
      .requiredOption('-n, --name <name>', 'token name')
      .addOption(registryOption())
      .option('-y, --yes', 'do not prompt for confirmation')
      .action(
        handler<{ name: string; registry?: string; yes?: boolean }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          await confirm(`Are you sure you want to delete the token '${options.name}'?`, options.yes);
          await context.client.mgmt('DELETE', tokensPath(registry, options.name));
        }),
      ),
    [['Delete a token.', 'berth token delete -n ci-pull -r contoso --yes']],
  );

  const credential = examples(token.command('credential').description("manage a token's passwords"), [
    ['Replace password2 of a token.', 'berth token credential generate -n ci-pull -r contoso --password2'],
  ]);
  examples(
    addExpiryOptions(
      credential
        .command('generate')
        .description('generate new password values (both unless --password1 or --password2); printed once')
        .requiredOption('-n, --name <name>', 'token name')
        .addOption(registryOption())
        .option('--password1', 'generate password1')
        .option('--password2', 'generate password2'),
    ).action(
      handler<{ name: string; registry?: string; password1?: boolean; password2?: boolean } & ExpiryOptions>(async (options, context) => {
        const registry = context.registry(options.registry, '-r/--registry');
        const both = !options.password1 && !options.password2;
        const expiry = expiryFrom(options);
        const body = { password1: both || options.password1 === true, password2: both || options.password2 === true, ...(expiry !== undefined && { expiry }) };
        context.print(await context.client.mgmt('POST', `${tokensPath(registry, options.name)}/credentials/generate`, body), tokenTable);
      }),
    ),
    [
      ['Regenerate password2 for 90 days.', 'berth token credential generate -n ci-pull -r contoso --password2 --expiration-in-days 90'],
      ['Regenerate password1 and print it.', 'berth token credential generate -n ci-pull -r contoso --password1 --query "credentials.passwords[?name==\'password1\'].value | [0]" -o tsv'],
    ],
  );
}
