/**
 * `berth task create|update|show|list|delete|run|list-runs|logs|show-run|cancel-run|
 * stop-detached|show-webhook`, `berth task credential add|update|list|remove` and
 * `berth task timer add|update|remove|list` (`az acr task ...`).
 *
 * As in `az acr task credential add`, `-u/--username` and `-p/--password` written after `task`
 * are the other registry's credentials; the caller's own come from global flags written before
 * `task`, `BERTH_USERNAME`/`BERTH_PASSWORD` or `berth configure`.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseBoolean, parsePositiveInt } from '../arguments.ts';
import { listOf } from '../collections.ts';
import { contextWithCommandCredentials } from '../command-credentials.ts';
import { examples, handler } from '../context.ts';
import { CliError } from '../errors.ts';
import type { TableColumn } from '../output.ts';
import { confirm } from '../prompt.ts';
import { collect, parsePlatform, parseTimeout, valueParser, valuesOf, type RunValue } from '../task-arguments.ts';
import { followRun, printLog, registryPath, runTable, type Run } from '../task-runs.ts';

const runStatuses = ['Queued', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Error', 'Timeout'];

interface TriggerView {
  sourceTriggers?: { status?: string }[];
  timerTriggers?: { status?: string }[];
  baseImageTrigger?: { status?: string } | null;
}

/** The TRIGGERS column: which of the task's triggers are enabled, as az names them. */
export function enabledTriggers(trigger: unknown): string {
  const view = (trigger ?? {}) as TriggerView;
  const enabled = (item: { status?: string } | null | undefined) => item?.status === 'Enabled';
  return [
    ...(view.sourceTriggers?.some(enabled) ? ['SOURCE'] : []),
    ...(view.timerTriggers?.some(enabled) ? ['TIMER'] : []),
    ...(enabled(view.baseImageTrigger) ? ['BASE_IMAGE'] : []),
  ].join(', ');
}

export const taskTable: TableColumn[] = [
  { header: 'NAME', value: (task) => task.name },
  { header: 'PLATFORM', value: (task) => (task.platform as { os?: string } | undefined)?.os ?? '' },
  { header: 'STATUS', value: (task) => task.status },
  { header: 'SOURCE REPOSITORY', value: (task) => (task.step as { contextPath?: string | null } | undefined)?.contextPath ?? '' },
  { header: 'TRIGGERS', value: (task) => enabledTriggers(task.trigger) },
];

type CustomRegistries = Record<string, { userName: string | null; identity: string | null }>;

const credentialTable: TableColumn[] = [
  { header: 'LOGIN SERVER', value: (credential) => credential.loginServer },
  { header: 'USER NAME', value: (credential) => credential.userName ?? '' },
  { header: 'IDENTITY', value: (credential) => credential.identity ?? '' },
];

/** `az acr task credential list` prints the map of login servers; its table lists them. */
function credentialsOf(task: unknown): CustomRegistries {
  return (task as { credentials?: { customRegistries?: CustomRegistries } }).credentials?.customRegistries ?? {};
}

function credentialRows(value: unknown): unknown {
  return Object.entries(value as CustomRegistries).map(([loginServer, credential]) => ({ loginServer, ...credential }));
}

const registryOption = () => new Option('-r, --registry <registry>', 'registry name (default: the configured registry)');
const nameOption = () => new Option('-n, --name <name>', 'task name (5-50 letters, digits, - and _)').makeOptionMandatory();
const statusOption = () => new Option('--status <status>', 'Enabled or Disabled').choices(['Enabled', 'Disabled']);
const runIdOption = () => new Option('--run-id <id>', 'the run id, e.g. ca1');

function tasksPath(registry: string, ...segments: string[]): string {
  return registryPath(registry, 'tasks', ...segments);
}

interface DefinitionOptions {
  name: string;
  registry?: string;
  context?: string;
  file?: string;
  cmd?: string;
  image?: string[];
  arg?: RunValue[];
  secretArg?: RunValue[];
  set?: RunValue[];
  setSecret?: RunValue[];
  platform?: string;
  timeout?: number;
  push: boolean;
  cache: boolean;
  target?: string;
  status?: string;
  assignIdentity?: string | boolean;
  gitAccessToken?: string;
  commitTriggerEnabled?: boolean;
  gitPollInterval?: number | null;
  baseImageTriggerEnabled?: boolean;
  baseImageTriggerType?: string;
  baseImageTriggerName?: string;
  schedule?: string[];
}

/** `--git-poll-interval`: whole seconds, or `default` for the server's interval. */
function parsePollInterval(text: string): number | null {
  if (text === 'default') return null;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < 1 || seconds > 86400) throw new InvalidArgumentError("expected whole seconds from 1 to 86400, or 'default'.");
  return seconds;
}

/** `--assign-identity [system]`, `--use-identity [system]`: the task's own identity (a service principal). */
function systemIdentity(flag: string, value: string | boolean | undefined): true | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === '[system]' || value === 'system') return true;
  throw new CliError(`${flag} ${String(value)}: only the task's own identity ([system]) is supported`);
}

/** The fields of a task the flags give; a definition without a flag keeps that field. */
function definitionOf(options: DefinitionOptions): Record<string, unknown> {
  return {
    contextPath: options.context,
    contextAccessToken: options.gitAccessToken,
    file: options.file,
    cmd: options.cmd,
    imageNames: options.image,
    noPush: options.push ? undefined : true,
    noCache: options.cache ? undefined : true,
    target: options.target,
    values: valuesOf(options.arg, options.secretArg, options.set, options.setSecret),
    platform: options.platform,
    timeoutSeconds: options.timeout,
    status: options.status,
    assignIdentity: systemIdentity('--assign-identity', options.assignIdentity),
    commitTriggerEnabled: options.commitTriggerEnabled,
    gitPollIntervalSeconds: options.gitPollInterval,
    baseImageTriggerEnabled: options.baseImageTriggerEnabled,
    baseImageTriggerType: options.baseImageTriggerType,
    baseImageTriggerName: options.baseImageTriggerName,
    schedules: options.schedule,
  };
}

/** The flags of `task create` and `task update`. */
function definitionOptions(command: Command, creating: boolean): Command {
  const context = new Option('-c, --context <location>', 'git URL (https://host/repo.git#branch:folder), a repository on the server (/srv/repo#main), a tarball URL, or /dev/null');
  return command
    .addOption(nameOption())
    .addOption(registryOption())
    .addOption(creating ? context.makeOptionMandatory() : context)
    .option('-f, --file <file>', 'a Dockerfile, or a task file (.yaml/.yml), relative to the context')
    .option('--cmd <command>', 'one command to run: "<image> <args>" (with --context /dev/null)')
    .addOption(new Option('-t, --image <repo:tag>', 'an image a Dockerfile task builds and pushes, e.g. app:{{.Run.ID}}; repeatable').argParser(collect))
    .addOption(new Option('--arg <name=value>', 'a build argument; repeatable').argParser(valueParser(false)))
    .addOption(new Option('--secret-arg <name=value>', 'a build argument masked in logs and never shown; repeatable').argParser(valueParser(true)))
    .addOption(new Option('--set <name=value>', 'a value for {{.Values.name}}; repeatable').argParser(valueParser(false)))
    .addOption(new Option('--set-secret <name=value>', 'a value masked in logs and never shown; repeatable').argParser(valueParser(true)))
    .addOption(new Option('--platform <os/arch>', 'the platform, e.g. linux/amd64 (default: the host platform)').argParser(parsePlatform))
    .addOption(new Option('--timeout <seconds>', 'run timeout, 300-28800 s (default: 3600)').argParser(parseTimeout))
    .option('--no-push', 'build without pushing (Dockerfile tasks)')
    .option('--no-cache', 'build without the layer cache (Dockerfile tasks)')
    .option('--target <stage>', 'the build stage to build (Dockerfile tasks)')
    .addOption(creating ? statusOption().default('Enabled') : statusOption())
    .addOption(new Option('--assign-identity [identity]', "give the task its own identity ('[system]'), for role assignments and --use-identity credentials"))
    .option('--git-access-token <token>', 'access token of a private git context (clear text or a secret URI)')
    .option('--commit-trigger-enabled [true|false]', "run on each new commit of the git context's branch (default: true for git contexts)", parseBoolean)
    .addOption(new Option('--git-poll-interval <seconds>', "seconds between polls of the branch for new commits, or 'default' (the server's --git-poll-interval)").argParser(parsePollInterval))
    .option('--base-image-trigger-enabled [true|false]', 'run when a base image the task builds FROM moves (default: true)', parseBoolean)
    .addOption(new Option('--base-image-trigger-type <type>', "Runtime: the final stage's base image only (default); All: every stage's").choices(['All', 'Runtime']))
    .option('--base-image-trigger-name <name>', 'name of the base image trigger (default: defaultBaseimageTriggerName)')
    .addOption(new Option('--schedule <[name:]cron>', 'add a timer: a 5-field cron schedule in UTC, optionally named, e.g. "nightly:0 2 * * *"; repeatable').argParser(collect));
}

interface RunTaskOptions {
  name: string;
  registry?: string;
  set?: RunValue[];
  setSecret?: RunValue[];
  arg?: RunValue[];
  secretArg?: RunValue[];
  logs: boolean;
  wait: boolean;
}

interface CredentialOptions {
  name: string;
  registry?: string;
  loginServer: string;
  useIdentity?: string | boolean;
}

/** The credential flags after `task`: `-u`, `-p` (clear text or secret URIs) or `--use-identity`. */
function credentialBody(options: CredentialOptions, given: { username?: string; password?: string }): { username?: string; password?: string; useIdentity?: true } {
  const useIdentity = systemIdentity('--use-identity', options.useIdentity);
  if (useIdentity && (given.username !== undefined || given.password !== undefined)) throw new CliError('give -u/-p or --use-identity, not both');
  return { username: given.username, password: given.password, useIdentity };
}

function registerCredentialCommands(task: Command): void {
  const credential = examples(task.command('credential').description("manage a task's credentials for other registries (used by its pulls and pushes)"), [
    ['Let a task pull from Docker Hub with a user name and a password kept in a vault.', 'berth task credential add -n hello -r contoso --login-server docker.io -u myuser -p vault://kv/dockerhub-password'],
  ]);
  const loginServerOption = () => new Option('--login-server <server>', 'login server of the other registry, e.g. docker.io or baseartifacts.localhost:5000').makeOptionMandatory();
  const userOption = () => new Option('-u, --username <name>', 'user name, clear text or a secret URI (vault://<vault>/<name>)');
  const passwordOption = () => new Option('-p, --password <password>', 'password, clear text or a secret URI (vault://<vault>/<name>)');
  const identityOption = () => new Option('--use-identity [identity]', "log in with the task's identity ('[system]')");

  examples(
    credential
      .command('add')
      .description('add the credential of a registry to a task')
      .addOption(nameOption())
      .addOption(registryOption())
      .addOption(loginServerOption())
      .addOption(userOption())
      .addOption(passwordOption())
      .addOption(identityOption())
      .action(async (options: CredentialOptions, command: Command) => {
        const { context, credential: given } = await contextWithCommandCredentials(command, 'task');
        const registry = context.registry(options.registry, '-r/--registry');
        const body = { loginServer: options.loginServer, ...credentialBody(options, given) };
        if (body.useIdentity === undefined && (given.username === undefined || given.password === undefined)) throw new CliError('give -u and -p, or --use-identity');
        const updated = await context.client.mgmt('POST', tasksPath(registry, options.name, 'credentials'), body);
        context.print(credentialsOf(updated), credentialTable, credentialRows);
      }),
    [
      ['Add a user name and password (kept in a vault) for Docker Hub.', 'berth task credential add -n hello -r contoso --login-server docker.io -u myuser -p vault://kv/dockerhub-password'],
      ["Pull from another registry of this installation with the task's identity.", 'berth task credential add -n hello -r contoso --login-server baseartifacts.localhost:5000 --use-identity [system]'],
    ],
  );

  examples(
    credential
      .command('update')
      .description("change a task's credential for a registry")
      .addOption(nameOption())
      .addOption(registryOption())
      .addOption(loginServerOption())
      .addOption(userOption())
      .addOption(passwordOption())
      .addOption(identityOption())
      .action(async (options: CredentialOptions, command: Command) => {
        const { context, credential: given } = await contextWithCommandCredentials(command, 'task');
        const registry = context.registry(options.registry, '-r/--registry');
        const body = credentialBody(options, given);
        if (Object.values(body).every((field) => field === undefined)) throw new CliError('nothing to update: give -u, -p or --use-identity');
        const updated = await context.client.mgmt('PATCH', tasksPath(registry, options.name, 'credentials', options.loginServer), body);
        context.print(credentialsOf(updated), credentialTable, credentialRows);
      }),
    [['Change the password of a credential.', 'berth task credential update -n hello -r contoso --login-server docker.io -p vault://kv/new-password']],
  );

  examples(
    credential
      .command('list')
      .description("list a task's credentials (passwords are never shown)")
      .addOption(nameOption())
      .addOption(registryOption())
      .action(
        handler<{ name: string; registry?: string }>(async (options, context) => {
          const task = await context.client.mgmt('GET', tasksPath(context.registry(options.registry, '-r/--registry'), options.name));
          context.print(credentialsOf(task), credentialTable, credentialRows);
        }),
      ),
    [['List the registries a task has credentials for.', 'berth task credential list -n hello -r contoso -o table']],
  );

  examples(
    credential
      .command('remove')
      .description("remove a task's credential for a registry")
      .addOption(nameOption())
      .addOption(registryOption())
      .addOption(loginServerOption())
      .action(
        handler<CredentialOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          const updated = await context.client.mgmt('DELETE', tasksPath(registry, options.name, 'credentials', options.loginServer));
          context.print(credentialsOf(updated), credentialTable, credentialRows);
        }),
      ),
    [['Remove the Docker Hub credential of a task.', 'berth task credential remove -n hello -r contoso --login-server docker.io']],
  );
}

function registerRunCommands(task: Command): void {
  examples(
    task
      .command('run')
      .description("queue a run of a task and stream its log (az acr task run); fails when the run does not succeed")
      .addOption(nameOption())
      .addOption(registryOption())
      .addOption(new Option('--set <name=value>', "override a value of the task's file for this run; repeatable").argParser(valueParser(false)))
      .addOption(new Option('--set-secret <name=value>', 'a secret value for this run, masked in the log; repeatable').argParser(valueParser(true)))
      .addOption(new Option('--arg <name=value>', 'override a build argument for this run; repeatable').argParser(valueParser(false)))
      .addOption(new Option('--secret-arg <name=value>', 'a secret build argument for this run; repeatable').argParser(valueParser(true)))
      .option('--no-logs', 'do not show the log; wait for the run and print it')
      .option('--no-wait', 'print the queued run and return at once')
      .action(
        handler<RunTaskOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          const values = valuesOf(options.arg, options.secretArg, options.set, options.setSecret);
          const run = await context.client.mgmt<Run>('POST', tasksPath(registry, options.name, 'runs'), { values });
          await followRun(context, registry, run, options);
        }),
      ),
    [
      ['Run a task and follow its log.', 'berth task run -n hello -r contoso'],
      ['Run a task with a value for this run only.', 'berth task run -n hello -r contoso --set TAG=hotfix'],
      ['Queue a run and print its id.', 'berth task run -n hello -r contoso --no-wait --query runId -o tsv'],
    ],
  );

  examples(
    task
      .command('list-runs')
      .description("list a registry's runs, newest first (az acr task list-runs)")
      .addOption(registryOption())
      .option('-n, --name <name>', 'only the runs of this task')
      .addOption(new Option('--run-status <status>', 'only runs with this status').choices(runStatuses))
      .addOption(new Option('--top <n>', 'at most this many runs').argParser(parsePositiveInt).default(15))
      .action(
        handler<{ registry?: string; name?: string; runStatus?: string; top: number }>(async (options, context) => {
          const query = new URLSearchParams({ top: String(options.top) });
          if (options.name !== undefined) query.set('task', options.name);
          if (options.runStatus !== undefined) query.set('status', options.runStatus);
          const runs = listOf(await context.client.mgmt('GET', `${registryPath(context.registry(options.registry, '-r/--registry'), 'runs')}?${query}`));
          context.print(runs, runTable);
        }),
      ),
    [
      ['List the latest runs.', 'berth task list-runs -r contoso -o table'],
      ['List the failed runs of a task.', 'berth task list-runs -r contoso -n hello --run-status Failed --top 5 -o table'],
      ['Print the images the latest run pushed.', "berth task list-runs -r contoso --top 1 --query '[0].outputImages'"],
    ],
  );

  examples(
    task
      .command('logs')
      .description('show the log of a run: live while it runs, replayed after (az acr task logs); by default of the newest run')
      .addOption(registryOption())
      .option('-n, --name <name>', 'without --run-id: the newest run of this task')
      .addOption(runIdOption())
      .action(
        handler<{ registry?: string; name?: string; runId?: string }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          let runId = options.runId;
          if (runId === undefined) {
            const query = new URLSearchParams({ top: '1', ...(options.name !== undefined && { task: options.name }) });
            const [newest] = listOf(await context.client.mgmt('GET', `${registryPath(registry, 'runs')}?${query}`)) as Run[];
            if (!newest) throw new CliError(options.name === undefined ? `registry ${registry} has no runs` : `task ${options.name} has no runs`);
            runId = newest.runId;
          }
          await printLog(context, registry, runId, true);
        }),
      ),
    [
      ['Follow the log of the newest run.', 'berth task logs -r contoso'],
      ['Show the log of a run.', 'berth task logs -r contoso --run-id ca1'],
      ['Follow the newest run of a task.', 'berth task logs -r contoso -n hello'],
    ],
  );

  examples(
    task
      .command('show-run')
      .description('show a run: status, times, images pushed and why it failed (az acr task show-run)')
      .addOption(registryOption())
      .addOption(runIdOption().makeOptionMandatory())
      .action(
        handler<{ registry?: string; runId: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', registryPath(context.registry(options.registry, '-r/--registry'), 'runs', options.runId)), runTable);
        }),
      ),
    [
      ['Show a run.', 'berth task show-run -r contoso --run-id ca1'],
      ["Print a run's status.", 'berth task show-run -r contoso --run-id ca1 --query status -o tsv'],
    ],
  );

  examples(
    task
      .command('cancel-run')
      .description('cancel a queued or running run, or all of them with --all')
      .addOption(registryOption())
      .addOption(runIdOption())
      .option('--all', 'cancel every queued and running run of the registry')
      .action(
        handler<{ registry?: string; runId?: string; all?: boolean }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          if ((options.runId === undefined) === (options.all === undefined)) throw new CliError('give either --run-id or --all');
          if (options.all) context.print(listOf(await context.client.mgmt('POST', registryPath(registry, 'runs', 'cancel'))), runTable);
          else context.print(await context.client.mgmt('POST', registryPath(registry, 'runs', options.runId!, 'cancel')), runTable);
        }),
      ),
    [
      ['Cancel a run.', 'berth task cancel-run -r contoso --run-id ca1'],
      ['Cancel every queued and running run.', 'berth task cancel-run -r contoso --all'],
    ],
  );

  examples(
    task
      .command('stop-detached')
      .description("stop the containers the task's runs left running (steps with detach: true)")
      .addOption(nameOption())
      .addOption(registryOption())
      .action(
        handler<{ name: string; registry?: string }>(async (options, context) => {
          context.print(await context.client.mgmt('POST', tasksPath(context.registry(options.registry, '-r/--registry'), options.name, 'stop-detached')));
        }),
      ),
    [['Stop the container a deploy step left running.', 'berth task stop-detached -n deploy -r contoso']],
  );
}

const timerTable: TableColumn[] = [
  { header: 'NAME', value: (timer) => timer.name },
  { header: 'SCHEDULE', value: (timer) => timer.schedule },
  { header: 'STATUS', value: (timer) => timer.status },
];

interface TimerOptions {
  name: string;
  registry?: string;
  timerName: string;
  schedule?: string;
  enabled?: boolean;
}

function registerTimerCommands(task: Command): void {
  const timer = examples(task.command('timer').description("manage a task's timer triggers: named cron schedules in UTC (az acr task timer)"), [
    ['Run a task every night at 2:00 UTC.', "berth task timer add -n purge -r contoso --timer-name nightly --schedule '0 2 * * *'"],
  ]);
  const timerNameOption = () => new Option('--timer-name <name>', 'the timer name, e.g. t1').makeOptionMandatory();
  const enabledOption = () => new Option('--enabled [true|false]', 'whether the timer fires').argParser(parseBoolean);
  const timersPath = (registry: string, options: TimerOptions, ...segments: string[]) => tasksPath(registry, options.name, 'timers', ...segments);

  examples(
    timer
      .command('add')
      .description('add a timer to a task')
      .addOption(nameOption())
      .addOption(registryOption())
      .addOption(timerNameOption())
      .addOption(new Option('--schedule <cron>', '5-field cron schedule in UTC: minute hour day-of-month month day-of-week').makeOptionMandatory())
      .addOption(enabledOption())
      .action(
        handler<TimerOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          const body = { name: options.timerName, schedule: options.schedule, enabled: options.enabled };
          context.print(await context.client.mgmt('POST', timersPath(registry, options), body), taskTable);
        }),
      ),
    [
      ['Run a task at the top of every hour.', "berth task timer add -n hello -r contoso --timer-name hourly --schedule '0 * * * *'"],
      ['Add a timer that starts disabled.', "berth task timer add -n hello -r contoso --timer-name weekly --schedule '0 3 * * 1' --enabled false"],
    ],
  );

  examples(
    timer
      .command('update')
      .description("change a task's timer: its schedule, or whether it fires")
      .addOption(nameOption())
      .addOption(registryOption())
      .addOption(timerNameOption())
      .option('--schedule <cron>', 'the new 5-field cron schedule in UTC')
      .addOption(enabledOption())
      .action(
        handler<TimerOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          if (options.schedule === undefined && options.enabled === undefined) throw new CliError('nothing to update: give --schedule or --enabled');
          const body = { schedule: options.schedule, enabled: options.enabled };
          context.print(await context.client.mgmt('PATCH', timersPath(registry, options, options.timerName), body), taskTable);
        }),
      ),
    [
      ['Move a timer to 4:30 UTC.', "berth task timer update -n hello -r contoso --timer-name nightly --schedule '30 4 * * *'"],
      ['Pause a timer.', 'berth task timer update -n hello -r contoso --timer-name nightly --enabled false'],
    ],
  );

  examples(
    timer
      .command('remove')
      .description("remove a task's timer")
      .addOption(nameOption())
      .addOption(registryOption())
      .addOption(timerNameOption())
      .action(
        handler<TimerOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          context.print(await context.client.mgmt('DELETE', timersPath(registry, options, options.timerName)), taskTable);
        }),
      ),
    [['Remove a timer.', 'berth task timer remove -n hello -r contoso --timer-name nightly']],
  );

  examples(
    timer
      .command('list')
      .description("list a task's timers")
      .addOption(nameOption())
      .addOption(registryOption())
      .action(
        handler<{ name: string; registry?: string }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          context.print(listOf(await context.client.mgmt('GET', tasksPath(registry, options.name, 'timers'))), timerTable);
        }),
      ),
    [['List the timers of a task.', 'berth task timer list -n hello -r contoso -o table']],
  );
}

export function registerTaskCommands(program: Command): void {
  const task = examples(program.command('task').description('manage tasks: builds and multi-step runs, run on demand; and their runs'), [
    ['Create a task that builds a git repository and run it.', 'berth task create -n hello -r contoso -c https://git.example.com/team/hello.git#main -f Dockerfile -t hello:{{.Run.ID}} && berth task run -n hello -r contoso'],
  ]);

  examples(
    definitionOptions(task.command('create'), true)
      .description('create a task: a Dockerfile build (-f Dockerfile -t ...), a task file (-f acr-task.yaml) or one command (--cmd)')
      .action(
        handler<DefinitionOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          if (options.file === undefined && options.cmd === undefined) throw new CliError('give -f/--file (a Dockerfile or task file) or --cmd');
          context.print(await context.client.mgmt('POST', tasksPath(registry), { name: options.name, ...definitionOf(options) }), taskTable);
        }),
      ),
    [
      ['Build and push the Dockerfile of a git repository.', 'berth task create -n hello -r contoso -c https://git.example.com/team/hello.git#main -f Dockerfile -t hello:{{.Run.ID}} --git-access-token "$GIT_TOKEN"'],
      ['Run a multi-step task file of a repository on the server.', 'berth task create -n gate -r contoso -c /srv/git/app#main -f acr-task.yaml --set-secret TOKEN=vault://kv/token'],
      ['Run one command, without a context.', "berth task create -n hello -r contoso -c /dev/null --cmd '$Registry/hello-world:v1'"],
      ['Give the task its own identity, for role assignments.', 'berth task create -n purge -r contoso -c /dev/null -f purge.yaml --assign-identity --timeout 3600'],
      ['Purge every night, without a context.', `berth task create -n purge -r contoso -c /dev/null --cmd "acr purge --filter 'app:.*' --untagged --ago 7d" --schedule "nightly:0 2 * * *"`],
      ['Build on commits, polled every 30 s, and on every base image change.', 'berth task create -n hello -r contoso -c /srv/git/hello#main -f Dockerfile -t hello:{{.Run.ID}} --git-poll-interval 30 --base-image-trigger-type All'],
    ],
  );

  examples(
    definitionOptions(task.command('update'), false)
      .description("change a task's definition; what is not given is kept")
      .action(
        handler<DefinitionOptions>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          const changes = definitionOf(options);
          if (Object.values(changes).every((field) => field === undefined)) throw new CliError('nothing to update: give the flags to change');
          context.print(await context.client.mgmt('PATCH', tasksPath(registry, options.name), changes), taskTable);
        }),
      ),
    [
      ['Disable a task.', 'berth task update -n hello -r contoso --status Disabled'],
      ['Stop building on commits.', 'berth task update -n hello -r contoso --commit-trigger-enabled false'],
      ['Change the image a task builds and a value.', 'berth task update -n hello -r contoso -t hello:v2 --set TAG=v2'],
    ],
  );

  examples(
    task
      .command('show')
      .description('show a task (az acr task show); secret values and passwords are never shown')
      .addOption(nameOption())
      .addOption(registryOption())
      .action(
        handler<{ name: string; registry?: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', tasksPath(context.registry(options.registry, '-r/--registry'), options.name)), taskTable);
        }),
      ),
    [
      ['Show a task.', 'berth task show -n hello -r contoso'],
      ["Print a task's context.", 'berth task show -n hello -r contoso --query step.contextPath -o tsv'],
    ],
  );

  examples(
    task
      .command('list')
      .description("list a registry's tasks")
      .addOption(registryOption())
      .action(
        handler<{ registry?: string }>(async (options, context) => {
          context.print(listOf(await context.client.mgmt('GET', tasksPath(context.registry(options.registry, '-r/--registry')))), taskTable);
        }),
      ),
    [['List tasks.', 'berth task list -r contoso -o table']],
  );

  examples(
    task
      .command('delete')
      .description('delete a task (its runs stay listed)')
      .addOption(nameOption())
      .addOption(registryOption())
      .option('-y, --yes', 'do not prompt for confirmation')
      .action(
        handler<{ name: string; registry?: string; yes?: boolean }>(async (options, context) => {
          const registry = context.registry(options.registry, '-r/--registry');
          await confirm(`Are you sure you want to delete the task '${options.name}'?`, options.yes);
          await context.client.mgmt('DELETE', tasksPath(registry, options.name));
        }),
      ),
    [['Delete a task.', 'berth task delete -n hello -r contoso --yes']],
  );

  examples(
    task
      .command('show-webhook')
      .description("show the URL and secret of a task's git push webhook, for the repository's webhook settings (GitHub, GitLab, Gitea)")
      .addOption(nameOption())
      .addOption(registryOption())
      .action(
        handler<{ name: string; registry?: string }>(async (options, context) => {
          context.print(await context.client.mgmt('GET', tasksPath(context.registry(options.registry, '-r/--registry'), options.name, 'webhook')));
        }),
      ),
    [
      ['Show the webhook to add to the repository of a task.', 'berth task show-webhook -n hello -r contoso'],
      ['Print only the secret.', 'berth task show-webhook -n hello -r contoso --query secret -o tsv'],
    ],
  );

  registerRunCommands(task);
  registerCredentialCommands(task);
  registerTimerCommands(task);
}
