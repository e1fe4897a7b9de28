/**
 * `berth config retention show|update -r <registry> [--status enabled|disabled] [--days N]
 * [--type UntaggedManifests] [--include-existing [true|false]]`.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseBoolean } from '../arguments.ts';
import { examples, handler } from '../context.ts';
import { configGroup } from './config-group.ts';

const registryOption = () => new Option('-r, --registry <registry>', 'registry name (default: the configured registry)');

function policyPath(registry: string): string {
  return `/registries/${encodeURIComponent(registry)}/policies/retention`;
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!/^\d+$/.test(value) || days > 365) throw new InvalidArgumentError('expected a whole number of days from 0 to 365.');
  return days;
}

interface UpdateOptions {
  registry?: string;
  status?: string;
  days?: number;
  type: string;
  includeExisting?: boolean;
}

export function registerRetentionCommands(program: Command): void {
  const retention = examples(
    configGroup(program)
      .command('retention')
      .description('retention: untagged manifests are deleted after N days (0 = at once), locked ones kept'),
    [
      ['Delete manifests as soon as they lose their last tag.', 'berth config retention update -r contoso --status enabled --days 0 --type UntaggedManifests'],
      ['Show the policy.', 'berth config retention show -r contoso'],
    ],
  );

  examples(
    retention
      .command('show')
      .description("show the registry's retention policy for untagged manifests")
      .addOption(registryOption())
      .action(
        handler<{ registry?: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', policyPath(context.registry(options.registry, '-r/--registry'))));
        }),
      ),
    [['Show the retention policy.', 'berth config retention show -r contoso']],
  );

  examples(
    retention
      .command('update')
      .description('change the retention policy for untagged manifests')
      .addOption(registryOption())
      .addOption(new Option('--status <status>', 'enabled or disabled').choices(['enabled', 'disabled']))
      .addOption(new Option('--days <days>', 'days an untagged manifest is kept, 0..365 (0 = deleted at once)').argParser(parseDays))
      .addOption(new Option('--type <type>', 'what the policy deletes').choices(['UntaggedManifests']).default('UntaggedManifests'))
      .addOption(
        new Option('--include-existing [value]', 'also delete manifests untagged before the policy was enabled').argParser(parseBoolean),
      )
      .action(
        handler<UpdateOptions>(async (options, context) => {
          const body = { status: options.status, days: options.days, type: options.type, includeExisting: options.includeExisting };
          context.print(await context.client.mgmt('PUT', policyPath(context.registry(options.registry, '-r/--registry')), body));
        }),
      ),
    [
      ['Keep untagged manifests a week.', 'berth config retention update -r contoso --status enabled --days 7 --type UntaggedManifests'],
      ['Also clear the backlog untagged before enabling.', 'berth config retention update -r contoso --include-existing'],
    ],
  );
}
