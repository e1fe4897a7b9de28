/** `berth webhook create|update|show|list|delete|get-config|ping|list-events`: ACR's registry webhooks. */
import { Option, type Command } from 'commander';
import { parsePositiveInt } from '../arguments.ts';
import { listOf } from '../collections.ts';
import { examples, handler } from '../context.ts';
import { CliError } from '../errors.ts';
import type { TableColumn } from '../output.ts';
import { confirm } from '../prompt.ts';

const webhookActions = ['push', 'delete', 'quarantine', 'chart_push', 'chart_delete'];

const webhookTable: TableColumn[] = [
  { header: 'NAME', value: (webhook) => webhook.name },
  { header: 'STATUS', value: (webhook) => webhook.status },
  { header: 'SCOPE', value: (webhook) => webhook.scope },
  { header: 'ACTIONS', value: (webhook) => (Array.isArray(webhook.actions) ? webhook.actions.join(', ') : '') },
];

const eventTable: TableColumn[] = [
  { header: 'ID', value: (event) => event.id },
  { header: 'ACTION', value: (event) => event.action },
  { header: 'STATUS', value: (event) => event.status },
  { header: 'ATTEMPTS', value: (event) => event.attempts },
  { header: 'HTTP', value: (event) => (event.eventResponseMessage as { statusCode?: string } | null)?.statusCode ?? '' },
  { header: 'LAST ATTEMPT', value: (event) => event.lastAttemptTime ?? '' },
  { header: 'ERROR', value: (event) => event.error ?? '' },
];

function webhooksPath(registry: string, name?: string, action?: string): string {
  const base = `/registries/${encodeURIComponent(registry)}/webhooks`;
  if (name === undefined) return base;
  return `${base}/${encodeURIComponent(name)}${action ? `/${action}` : ''}`;
}

/** `--headers k=v ...` → an object; an empty value (`--headers ''`) stands for no headers. */
export function parseHeaders(values: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    if (value === '') continue;
    const equals = value.indexOf('=');
    if (equals <= 0) throw new CliError(`--headers ${value}: expected name=value, e.g. "Authorization=Bearer abc"`);
    headers[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return headers;
}

const registryOption = () => new Option('-r, --registry <registry>', 'registry name (default: the configured registry)');
const nameOption = () => new Option('-n, --name <name>', 'webhook name (5-50 letters and digits)').makeOptionMandatory();
const actionsOption = () => new Option('--actions <actions...>', 'the events that trigger it').choices(webhookActions);
const statusOption = () => new Option('--status <status>', 'enabled or disabled').choices(['enabled', 'disabled']);
const scopeOption = () => new Option('--scope <scope>', "repo:tag, repo:* (all tags), repo (= repo:latest), '*' wildcards; empty for all");
const headersOption = () => new Option('--headers <name=value...>', "custom headers sent with every event (write-only; '' for none)");

interface WebhookOptions {
  name: string;
  registry?: string;
  uri?: string;
  actions?: string[];
  scope?: string;
  status?: string;
  headers?: string[];
}

export function registerWebhookCommands(program: Command): void {
  const webhook = examples(program.command('webhook').description('manage webhooks: HTTP calls on pushes and deletes in a registry'), [
    ['Call a URL on every push to the hello-world repository.', "berth webhook create -n hellohook -r contoso --uri https://ci.example.com/hook --actions push --scope 'hello-world:*'"],
  ]);

  examples(
    webhook
      .command('create')
      .description("create a webhook (as many as the registry's SKU allows)")
      .addOption(nameOption())
      .addOption(registryOption())
      .requiredOption('--uri <uri>', 'the http(s) URL that receives the event JSON')
      .addOption(actionsOption().makeOptionMandatory())
      .addOption(scopeOption())
      .addOption(headersOption())
      .addOption(statusOption().default('enabled'))
      .action(
        handler<WebhookOptions & { uri: string; actions: string[] }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          const body = {
            name: options.name,
            serviceUri: options.uri,
            actions: options.actions,
            ...(options.scope !== undefined && { scope: options.scope }),
            ...(options.status !== undefined && { status: options.status }),
            ...(options.headers !== undefined && { customHeaders: parseHeaders(options.headers) }),
          };
          context.print(await context.client.mgmt('POST', webhooksPath(registry), body), webhookTable);
        }),
      ),
    [
      ['Notify a service of every push and delete.', 'berth webhook create -n myhook -r contoso --uri http://127.0.0.1:8080/events --actions push delete'],
      [
        'Notify on pushes of one tag only, with an authorization header.',
        "berth webhook create -n prodhook -r contoso --uri https://deploy.example.com/hook --actions push --scope 'app:prod' --headers 'Authorization=Bearer s3cret'",
      ],
    ],
  );

  examples(
    webhook
      .command('update')
      .description("change a webhook's URI, actions, scope, custom headers (replaced as a whole) or status")
      .addOption(nameOption())
      .addOption(registryOption())
      .option('--uri <uri>', 'the URL that receives the event JSON')
      .addOption(actionsOption())
      .addOption(scopeOption())
      .addOption(headersOption())
      .addOption(statusOption())
      .action(
        handler<WebhookOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          const body = {
            ...(options.uri !== undefined && { serviceUri: options.uri }),
            ...(options.actions !== undefined && { actions: options.actions }),
            ...(options.scope !== undefined && { scope: options.scope }),
            ...(options.status !== undefined && { status: options.status }),
            ...(options.headers !== undefined && { customHeaders: parseHeaders(options.headers) }),
          };
          if (Object.keys(body).length === 0) throw new CliError('nothing to update: give --uri, --actions, --scope, --headers or --status');
          context.print(await context.client.mgmt('PATCH', webhooksPath(registry, options.name), body), webhookTable);
        }),
      ),
    [
      ['Disable a webhook.', 'berth webhook update -n myhook -r contoso --status disabled'],
      ['Limit a webhook to the tags of one repository.', "berth webhook update -n myhook -r contoso --scope 'hello-world:*'"],
    ],
  );

  examples(
    webhook
      .command('show')
      .description('show a webhook')
      .addOption(nameOption())
      .addOption(registryOption())
      .action(
        handler<WebhookOptions>(async (options, context) => {
          context.print(await context.client.mgmt('GET', webhooksPath(context.registry(options.registry, '-r/--registry'), options.name)), webhookTable);
        }),
      ),
    [['Show whether a webhook is enabled.', 'berth webhook show -n myhook -r contoso --query status -o tsv']],
  );

  examples(
    webhook
      .command('list')
      .description("list a registry's webhooks")
      .addOption(registryOption())
      .action(
        handler<{ registry?: string }>(async (options, context) => {
          context.print(listOf(await context.client.mgmt('GET', webhooksPath(context.registry(options.registry, '-r/--registry')))), webhookTable);
        }),
      ),
    [['List webhooks.', 'berth webhook list -r contoso -o table']],
  );

  examples(
    webhook
      .command('delete')
      .description('delete a webhook and its recorded events')
      .addOption(nameOption())
      .addOption(registryOption())
      .option('-y, --yes', 'do not prompt for confirmation')
      .action(
        handler<WebhookOptions & { yes?: boolean }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          await confirm(`Are you sure you want to delete the webhook '${options.name}'?`, options.yes);
          await context.client.mgmt('DELETE', webhooksPath(registry, options.name));
        }),
      ),
    [['Delete a webhook.', 'berth webhook delete -n myhook -r contoso --yes']],
  );

  examples(
    webhook
      .command('get-config')
      .description("show the webhook's service URI and the names of its custom headers")
      .addOption(nameOption())
      .addOption(registryOption())
      .action(
        handler<WebhookOptions>(async (options, context) => {
          context.print(await context.client.mgmt('GET', webhooksPath(context.registry(options.registry, '-r/--registry'), options.name, 'config')));
        }),
      ),
    [['Print where a webhook sends events.', 'berth webhook get-config -n myhook -r contoso --query serviceUri -o tsv']],
  );

  examples(
    webhook
      .command('ping')
      .description('send a ping event now; see its result with list-events')
      .addOption(nameOption())
      .addOption(registryOption())
      .action(
        handler<WebhookOptions>(async (options, context) => {
          context.print(await context.client.mgmt('POST', webhooksPath(context.registry(options.registry, '-r/--registry'), options.name, 'ping')));
        }),
      ),
    [['Ping a webhook and show the answer.', "berth webhook ping -n myhook -r contoso && berth webhook list-events -n myhook -r contoso --top 1 --query '[0].eventResponseMessage.statusCode'"]],
  );

  examples(
    webhook
      .command('list-events')
      .description("list a webhook's recent events, newest first: what was sent, the answer, attempts and status")
      .addOption(nameOption())
      .addOption(registryOption())
      .option('--top <n>', 'at most this many events (default 100)', parsePositiveInt)
      .action(
        handler<WebhookOptions & { top?: number }>(async (options, context) => {
          const path = webhooksPath(context.registry(options.registry, '-r/--registry'), options.name, 'events');
          context.print(listOf(await context.client.mgmt('GET', options.top === undefined ? path : `${path}?top=${options.top}`)), eventTable);
        }),
      ),
    [
      ['List the deliveries of a webhook.', 'berth webhook list-events -n myhook -r contoso -o table'],
      ['Show the events that failed.', "berth webhook list-events -n myhook -r contoso --query \"[?status=='failed'].{id: id, error: error}\""],
    ],
  );
}
