/**
 * `berth run` (`az acr run`): a quick run of a task file (`-f acr-task.yaml`) or one command
 * (`--cmd "<image> <args>"`) without creating a task. With a local folder the folder is uploaded
 * and `-f` names a file in it; with `/dev/null` there is no context and `-f` is read locally
 * (`-` = stdin). The log streams live; the command fails when the run does not succeed.
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { contextOf, examples } from '../context.ts';
import { CliError } from '../errors.ts';
import { parsePlatform, parseTimeout, readValuesFile, valueParser, valuesOf, type RunValue } from '../task-arguments.ts';
import { contextRelative, followRun, isRemoteSource, registryPath, uploadContext, type Run } from '../task-runs.ts';

interface RunOptions {
  registry?: string;
  file?: string;
  cmd?: string;
  set?: RunValue[];
  setSecret?: RunValue[];
  values?: string;
  platform?: string;
  timeout?: number;
  logs: boolean;
  wait: boolean;
  gitAccessToken?: string;
}

const NO_CONTEXT = '/dev/null';
const MAX_TASK_FILE_BYTES = 1024 * 1024;

async function readTaskFile(file: string): Promise<string> {
  let text: string;
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } else {
      text = await readFile(file, 'utf8');
    }
  } catch (error) {
    throw new CliError(`-f/--file ${file}: ${(error as Error).message}`);
  }
  if (Buffer.byteLength(text) > MAX_TASK_FILE_BYTES) throw new CliError(`-f/--file ${file}: larger than 1 MiB`);
  if (text.trim() === '') throw new CliError(`-f/--file ${file}: the task file is empty`);
  return text;
}

/** What the run executes and where its context comes from. */
async function runSource(options: RunOptions, source: string, upload: (alwaysInclude: string[]) => Promise<string>): Promise<Record<string, unknown>> {
  if ((options.file === undefined) === (options.cmd === undefined)) throw new CliError('give either -f/--file (a task file) or --cmd "<image> <args>"');
  if (source === NO_CONTEXT) {
    return { sourceLocation: null, ...(options.file !== undefined ? { taskFileContent: await readTaskFile(options.file) } : { cmd: options.cmd }) };
  }
  if (isRemoteSource(source)) return { sourceLocation: source, ...(options.file !== undefined ? { taskFilePath: options.file } : { cmd: options.cmd }) };
  if (options.file === '-') throw new CliError('-f - (stdin) needs the context /dev/null');
  const taskFilePath = options.file === undefined ? undefined : contextRelative(source, options.file, '-f/--file');
  return { sourceLocation: await upload(taskFilePath === undefined ? [] : [taskFilePath]), ...(taskFilePath !== undefined ? { taskFilePath } : { cmd: options.cmd }) };
}

export function registerRunCommand(program: Command): void {
  examples(
    program
      .command('run')
      .description("queue a quick run of a task file or a command (az acr run); streams the run's log")
      .argument('<source>', 'the context: a local folder, a git URL, a tarball URL, or /dev/null for none')
      .addOption(new Option('-r, --registry <registry>', 'registry name (default: the configured registry)'))
      .option('-f, --file <file>', "the task file (acr-task.yaml): in the context, or a local file ('-' for stdin) with /dev/null")
      .option('--cmd <command>', 'one command to run: "<image> <args>"')
      .addOption(new Option('--set <name=value>', 'a value for {{.Values.name}}; repeatable').argParser(valueParser(false)))
      .addOption(new Option('--set-secret <name=value>', 'a value masked in the log; repeatable').argParser(valueParser(true)))
      .option('--values <file>', 'a YAML file of values (name: value); --set wins over it')
      .addOption(new Option('--platform <os/arch>', 'the platform to run on, e.g. linux/amd64 (default: the host platform)').argParser(parsePlatform))
      .addOption(new Option('--timeout <seconds>', 'run timeout, 300-28800 s (default: 3600)').argParser(parseTimeout))
      .option('--no-logs', 'do not show the log; wait for the run and print it')
      .option('--no-wait', 'print the queued run and return at once')
      .option('--git-access-token <token>', 'access token for a private git context (clear text or a secret URI)')
      .action(async (source: string, options: RunOptions, command: Command) => {
        const context = await contextOf(command);
        const registry = context.registry(options.registry, '-r/--registry');
        const fromFile = options.values === undefined ? undefined : await readValuesFile(options.values);
        const body = {
          type: 'QuickRun',
          ...(await runSource(options, source, (alwaysInclude) => uploadContext(context, registry, source, alwaysInclude))),
          contextAccessToken: options.gitAccessToken,
          values: valuesOf(fromFile, options.set, options.setSecret),
          platform: options.platform,
          timeoutSeconds: options.timeout,
        };
        const run = await context.client.mgmt<Run>('POST', registryPath(registry, 'runs'), body);
        await followRun(context, registry, run, options);
      }),
    [
      ['Run a multi-step task file from the current folder.', 'berth run -r contoso -f acr-task.yaml .'],
      ['Run a local task file without a context, with values.', 'berth run -r contoso -f acr-task.yaml --set TAG=v1 --set-secret TOKEN="$TOKEN" /dev/null'],
      ['Run one command in a container of an image in the registry.', "berth run -r contoso --cmd '$Registry/hello-world:v1' /dev/null"],
      ['Run a task file from a git repository.', 'berth run -r contoso -f build.yaml https://git.example.com/team/app.git#main'],
      ['Queue a run and return its id at once.', 'berth run -r contoso --cmd "busybox echo hi" /dev/null --no-wait --query runId -o tsv'],
    ],
  );
}
