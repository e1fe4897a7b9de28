/** `berth credential show|renew`: a registry's admin user and its two passwords. */
import { Option, type Command } from 'commander';
import { examples, handler } from '../context.ts';
import type { TableColumn } from '../output.ts';

interface AdminCredential {
  username: string;
  passwords: { name: string; creationTime: string; value?: string }[];
}

function passwordValue(credential: Record<string, unknown>, name: string): unknown {
  const password = (credential.passwords as AdminCredential['passwords'] | undefined)?.find((entry) => entry.name === name);
  return password?.value ?? (password ? `(created ${password.creationTime})` : undefined);
}

const credentialTable: TableColumn[] = [
  { header: 'USERNAME', value: (credential) => credential.username },
  { header: 'PASSWORD', value: (credential) => passwordValue(credential, 'password') },
  { header: 'PASSWORD2', value: (credential) => passwordValue(credential, 'password2') },
];

export function registerCredentialCommands(program: Command): void {
  const credential = examples(program.command('credential').description("manage a registry's admin user credential"), [
    ['Enable the admin user, then give it a password.', 'berth update -n contoso --admin-enabled true && berth credential renew -n contoso --password-name password'],
  ]);

  examples(
    credential
      .command('show')
      .description('show the admin user name and when its passwords were created')
      .option('-n, --name <name>', 'registry name (default: the configured registry)')
      .action(
        handler<{ name?: string }>(async (options, context) => {
          const registry = context.registry(options.name);
          context.print(await context.client.mgmt('GET', `/registries/${encodeURIComponent(registry)}/credentials`), credentialTable);
        }),
      ),
    [['Show the admin user of a registry.', 'berth credential show -n contoso']],
  );

  examples(
    credential
      .command('renew')
      .description('generate a new value for one admin password (printed once)')
      .option('-n, --name <name>', 'registry name (default: the configured registry)')
      .addOption(new Option('--password-name <name>', 'which password to renew').choices(['password', 'password2']).makeOptionMandatory())
      .action(
        handler<{ name?: string; passwordName: string }>(async (options, context) => {
          const registry = context.registry(options.name);
          context.print(
            await context.client.mgmt('POST', `/registries/${encodeURIComponent(registry)}/credentials/renew`, { name: options.passwordName }),
            credentialTable,
          );
        }),
      ),
    [
      ['Renew the second admin password.', 'berth credential renew -n contoso --password-name password2'],
      ['Renew the first password and keep only its value.', 'berth credential renew -n contoso --password-name password --query "passwords[0].value" -o tsv'],
    ],
  );
}
