/**
 * `berth secret set|show|list|delete --vault-name <vault> --name <secret>`: the installation's
 * secret store, with the flags and JSON of `az keyvault secret`, so `--query value -o tsv` prints
 * a bare value. Tasks reference secrets as `vault://<vault>/<name>` or by their `id`.
 */
import { Option, type Command } from 'commander';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import type { TableColumn } from '../output.ts';

interface SecretOptions {
  vaultName: string;
  name: string;
}

const secretTable: TableColumn[] = [
  { header: 'NAME', value: (secret) => secret.name },
  { header: 'CONTENT TYPE', value: (secret) => secret.contentType ?? '' },
  { header: 'UPDATED', value: (secret) => (secret.attributes as { updated?: string } | undefined)?.updated ?? '' },
  { header: 'ID', value: (secret) => secret.id },
];

const vaultOption = () => new Option('--vault-name <vault>', 'vault name (3-24 letters, digits and -)').makeOptionMandatory();
const nameOption = () => new Option('-n, --name <name>', 'secret name (1-127 letters, digits and -)').makeOptionMandatory();

function secretPath(vault: string, name?: string): string {
  return `/vaults/${encodeURIComponent(vault)}/secrets${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

export function registerSecretCommands(program: Command): void {
  const secret = examples(program.command('secret').description('manage secrets for tasks: values kept encrypted in named vaults (az keyvault secret)'), [
    ['Keep a token and let a task use it.', 'berth secret set --vault-name kv --name git-token --value "$TOKEN" && berth task create -n app -r contoso -c /srv/git/app#main -f acr-task.yaml --set-secret TOKEN=vault://kv/git-token'],
  ]);

  examples(
    secret
      .command('set')
      .description("set a secret's value, creating it or a new version of it")
      .addOption(vaultOption())
      .addOption(nameOption())
      .requiredOption('--value <value>', 'the value')
      .option('--content-type <type>', 'a description of the value, e.g. text/plain or password')
      .action(
        handler<SecretOptions & { value: string; contentType?: string }>(async (options, context) => {
          const body = { value: options.value, contentType: options.contentType };
          context.print(await context.client.mgmt('PUT', secretPath(options.vaultName, options.name), body), secretTable);
        }),
      ),
    [
      ['Keep a password.', 'berth secret set --vault-name kv --name registry-password --value "$PASSWORD"'],
      ['Keep a token, noting what it is.', 'berth secret set --vault-name kv --name git-token --value "$TOKEN" --content-type token --query id -o tsv'],
    ],
  );

  examples(
    secret
      .command('show')
      .description('show a secret with its value')
      .addOption(vaultOption())
      .addOption(nameOption())
      .action(
        handler<SecretOptions>(async (options, context) => {
          context.print(await context.client.mgmt('GET', secretPath(options.vaultName, options.name)), secretTable);
        }),
      ),
    [['Print the bare value of a secret.', 'berth secret show --vault-name kv --name git-token --query value -o tsv']],
  );

  examples(
    secret
      .command('list')
      .description("list a vault's secrets (without their values)")
      .addOption(vaultOption())
      .action(
        handler<{ vaultName: string }>(async (options, context) => {
          context.print(listOf(await context.client.mgmt('GET', secretPath(options.vaultName))), secretTable);
        }),
      ),
    [['List the secrets of a vault.', 'berth secret list --vault-name kv -o table']],
  );

  examples(
    secret
      .command('delete')
      .description('delete a secret')
      .addOption(vaultOption())
      .addOption(nameOption())
      .action(
        handler<SecretOptions>(async (options, context) => {
          await context.client.mgmt('DELETE', secretPath(options.vaultName, options.name));
        }),
      ),
    [['Delete a secret.', 'berth secret delete --vault-name kv --name git-token']],
  );
}
