/** `berth config quarantine show|update -r <registry> [--status enabled|disabled]`. */
import { Option, type Command } from 'commander';
import { examples, handler } from '../context.ts';
import { configGroup } from './config-group.ts';

const registryOption = () => new Option('-r, --registry <registry>', 'registry name (default: the configured registry)');

function policyPath(registry: string): string {
  return `/registries/${encodeURIComponent(registry)}/policies/quarantine`;
}

export function registerQuarantineCommands(program: Command): void {
  const quarantine = examples(
    configGroup(program)
      .command('quarantine')
      .description('quarantine: pushed images stay unpullable (except by AcrQuarantineReader) until a scanner marks them Passed'),
    [
      ['Show the policy.', 'berth config quarantine show -r contoso'],
      ['Let scanners decide: give them AcrQuarantineWriter.', 'berth role assignment create --assignee scanner --role AcrQuarantineWriter --scope /registries/contoso'],
    ],
  );

  examples(
    quarantine
      .command('show')
      .description("show the registry's quarantine policy")
      .addOption(registryOption())
      .action(
        handler<{ registry?: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', policyPath(context.registry(options.registry, '-r/--registry'))));
        }),
      ),
    [['Show the quarantine policy.', 'berth config quarantine show -r contoso']],
  );

  examples(
    quarantine
      .command('update')
      .description('enable or disable quarantine')
      .addOption(registryOption())
      .addOption(new Option('--status <status>', 'enabled or disabled').choices(['enabled', 'disabled']).makeOptionMandatory())
      .action(
        handler<{ registry?: string; status: string }>(async (options, context) => {
          context.print(await context.client.mgmt('PUT', policyPath(context.registry(options.registry, '-r/--registry')), { status: options.status }));
        }),
      ),
    [['Quarantine new pushes until scanned.', 'berth config quarantine update -r contoso --status enabled']],
  );
}
