/** `berth create|list|show|update|delete`: registries, as `az acr create|list|show|update|delete`. */
import { Option, type Command } from 'commander';
import { parseBoolean } from '../arguments.ts';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import type { TableColumn } from '../output.ts';
import { confirm } from '../prompt.ts';
import { parseSize } from '../sizes.ts';

const skus = ['Basic', 'Standard', 'Premium'];

export const registryTable: TableColumn[] = [
  { header: 'NAME', value: (registry) => registry.name },
  { header: 'RESOURCE GROUP', value: (registry) => registry.resourceGroup },
  { header: 'LOCATION', value: (registry) => registry.location },
  { header: 'SKU', value: (registry) => (registry.sku as { name?: string } | undefined)?.name },
  { header: 'LOGIN SERVER', value: (registry) => registry.loginServer },
  { header: 'CREATION DATE', value: (registry) => registry.creationDate },
  { header: 'ADMIN ENABLED', value: (registry) => registry.adminUserEnabled },
];

interface RegistryView {
  resourceGroup?: string | null;
  [field: string]: unknown;
}

function registryPath(name: string): string {
  return `/registries/${encodeURIComponent(name)}`;
}

export function registerRegistryCommands(program: Command): void {
  examples(
    program
      .command('create')
      .description('create a registry')
      .requiredOption('-n, --name <name>', 'registry name: 5-50 lower-case letters and digits')
      .addOption(new Option('--sku <sku>', 'service tier, setting the included storage and webhook limits (default: Standard)').choices(skus))
      .option('--admin-enabled [true|false]', 'enable the admin user (user name = registry name)', parseBoolean)
      .option('-g, --resource-group <group>', 'a grouping label, shown by list')
      .option('-l, --location <location>', 'a location label')
      .action(
        handler<{ name: string; sku?: string; adminEnabled?: boolean; resourceGroup?: string; location?: string }>(async (options, context) => {
          const body = {
            name: options.name,
            ...(options.sku !== undefined && { sku: options.sku }),
            ...(options.adminEnabled !== undefined && { adminUserEnabled: options.adminEnabled }),
            ...(options.resourceGroup !== undefined && { resourceGroup: options.resourceGroup }),
            ...(options.location !== undefined && { location: options.location }),
          };
          context.print(await context.client.mgmt('POST', '/registries', body), registryTable);
        }),
      ),
    [
      ['Create a registry with the admin user enabled.', 'berth create -n contoso --sku Premium --admin-enabled true'],
      ['Create a registry in a resource group and location.', 'berth create -n contoso -g platform -l westeurope'],
    ],
  );

  examples(
    program
      .command('list')
      .description('list the registries you may read')
      .option('-g, --resource-group <group>', 'only registries with this resource group')
      .action(
        handler<{ resourceGroup?: string }>(async (options, context) => {
          const all = listOf(await context.client.mgmt('GET', '/registries')) as RegistryView[];
          const registries = options.resourceGroup === undefined ? all : all.filter((registry) => registry.resourceGroup === options.resourceGroup);
          context.print(registries, registryTable);
        }),
      ),
    [
      ['List registries as a table.', 'berth list -o table'],
      ['List the login servers of one resource group.', 'berth list -g platform --query "[].loginServer" -o tsv'],
    ],
  );

  examples(
    program
      .command('show')
      .description('show a registry')
      .option('-n, --name <name>', 'registry name (default: the configured registry)')
      .action(
        handler<{ name?: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', registryPath(context.registry(options.name))), registryTable);
        }),
      ),
    [
      ['Show a registry.', 'berth show -n contoso'],
      ["Print a registry's resource id, e.g. for --scope.", 'berth show -n contoso --query id -o tsv'],
    ],
  );

  examples(
    program
      .command('update')
      .description("change a registry's settings")
      .option('-n, --name <name>', 'registry name (default: the configured registry)')
      .option('--admin-enabled [true|false]', 'enable or disable the admin user', parseBoolean)
      .option('--anonymous-pull-enabled [true|false]', 'allow pulls without credentials', parseBoolean)
      .addOption(new Option('--sku <sku>', 'service tier (sets the storage quota to the tier\'s)').choices(skus))
      .addOption(
        new Option('--storage-quota <size>', 'storage quota, e.g. 50GiB or 500MB; pushes that would exceed it are refused (installation owner only)').argParser(parseSize),
      )
      .action(
        handler<{ name?: string; adminEnabled?: boolean; anonymousPullEnabled?: boolean; sku?: string; storageQuota?: number }>(async (options, context) => {
          const registry = context.registry(options.name);
          const body = {
            ...(options.sku !== undefined && { sku: options.sku }),
            ...(options.adminEnabled !== undefined && { adminUserEnabled: options.adminEnabled }),
            ...(options.anonymousPullEnabled !== undefined && { anonymousPullEnabled: options.anonymousPullEnabled }),
          };
          const quotaOnly = options.storageQuota !== undefined && Object.keys(body).length === 0;
          // Settings first: a SKU change sets the SKU's quota, which --storage-quota then overrides.
          const updated = quotaOnly ? undefined : await context.client.mgmt('PATCH', registryPath(registry), body);
          if (options.storageQuota !== undefined) {
            await context.client.mgmt('PUT', `${registryPath(registry)}/storage-quota`, { storageQuotaBytes: options.storageQuota });
          }
          context.print(updated ?? (await context.client.mgmt('GET', registryPath(registry))), registryTable);
        }),
      ),
    [
      ['Enable the admin user.', 'berth update -n contoso --admin-enabled true'],
      ['Allow anonymous pulls and move to Premium.', 'berth update -n contoso --anonymous-pull-enabled true --sku Premium'],
      ['Limit the storage of a registry to 50 GiB.', 'berth update -n contoso --storage-quota 50GiB'],
    ],
  );

  examples(
    program
      .command('delete')
      .description('delete a registry and everything in it')
      .option('-n, --name <name>', 'registry name (default: the configured registry)')
      .option('-y, --yes', 'do not prompt for confirmation')
      .action(
        handler<{ name?: string; yes?: boolean }>(async (options, context) => {
          const registry = context.registry(options.name);
          await confirm(`Are you sure you want to delete the registry '${registry}' and all its content?`, options.yes);
          await context.client.mgmt('DELETE', registryPath(registry));
        }),
      ),
    [['Delete a registry without being asked.', 'berth delete -n contoso --yes']],
  );
}
