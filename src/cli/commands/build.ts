/**
 * `berth build` (`az acr build`): a quick build of a Dockerfile, pushed to the registry. The
 * context is a local folder (packed honouring `.dockerignore` and uploaded), a git URL
 * (`https://host/repo.git#branch:folder`) or a tarball URL. The log streams live; the command
 * fails when the run does not succeed.
 */
import { Option, type Command } from 'commander';
import { contextOf, examples } from '../context.ts';
import { CliError } from '../errors.ts';
import { collect, parsePlatform, parseTimeout, valueParser, valuesOf, type RunValue } from '../task-arguments.ts';
import { contextRelative, followRun, isRemoteSource, registryPath, uploadContext, type Run } from '../task-runs.ts';

interface BuildOptions {
  registry?: string;
  image?: string[];
  file?: string;
  buildArg?: RunValue[];
  secretBuildArg?: RunValue[];
  target?: string;
  platform?: string;
  push: boolean;
  cache: boolean;
  logs: boolean;
  wait: boolean;
  timeout?: number;
  gitAccessToken?: string;
}

export function registerBuildCommand(program: Command): void {
  examples(
    program
      .command('build')
      .description("queue a quick build of a Dockerfile and push the image (az acr build); streams the run's log")
      .argument('<source>', 'the context: a local folder, a git URL (https://host/repo.git#branch:folder) or a tarball URL')
      .addOption(new Option('-r, --registry <registry>', 'registry name (default: the configured registry)'))
      .addOption(new Option('-t, --image <repo:tag>', 'an image to build and push, e.g. hello:{{.Run.ID}}; repeatable').argParser(collect))
      .option('-f, --file <dockerfile>', 'the Dockerfile, relative to the context (default: Dockerfile)')
      .addOption(new Option('--build-arg <name=value>', 'a build argument; repeatable').argParser(valueParser(false)))
      .addOption(new Option('--secret-build-arg <name=value>', 'a build argument masked in the log; repeatable').argParser(valueParser(true)))
      .option('--target <stage>', 'the build stage to build')
      .addOption(new Option('--platform <os/arch>', 'the platform of the image, e.g. linux/amd64 (default: the host platform)').argParser(parsePlatform))
      .option('--no-push', 'build without pushing')
      .option('--no-cache', 'build without the layer cache')
      .option('--no-logs', 'do not show the log; wait for the run and print it')
      .option('--no-wait', 'print the queued run and return at once')
      .addOption(new Option('--timeout <seconds>', 'run timeout, 300-28800 s (default: 3600)').argParser(parseTimeout))
      .option('--git-access-token <token>', 'access token for a private git context (clear text or a secret URI)')
      .action(async (source: string, options: BuildOptions, command: Command) => {
        const context = await contextOf(command);
        const registry = context.registry(options.registry, '-r/--registry');
        if (!options.image?.length && options.push) throw new CliError('give -t/--image to push, or --no-push to build only');
        let sourceLocation = source;
        let dockerFilePath = options.file;
        if (!isRemoteSource(source)) {
          dockerFilePath = contextRelative(source, options.file ?? 'Dockerfile', '-f/--file');
          sourceLocation = await uploadContext(context, registry, source, [dockerFilePath]);
        }
        const body = {
          type: 'QuickBuild',
          sourceLocation,
          contextAccessToken: options.gitAccessToken,
          dockerFilePath,
          imageNames: options.image ?? [],
          buildArgs: valuesOf(options.buildArg, options.secretBuildArg),
          target: options.target,
          platform: options.platform,
          noPush: options.push ? undefined : true,
          noCache: options.cache ? undefined : true,
          timeoutSeconds: options.timeout,
        };
        const run = await context.client.mgmt<Run>('POST', registryPath(registry, 'runs'), body);
        await followRun(context, registry, run, options);
      }),
    [
      ['Build the Dockerfile of the current folder and push it, tagged with the run id.', 'berth build -r contoso -t hello:{{.Run.ID}} .'],
      ['Build with build arguments, a target stage and two tags.', 'berth build -r contoso -t app:v1 -t app:latest --build-arg VERSION=1 --target runtime -f docker/Dockerfile .'],
      ['Build from a branch and folder of a git repository.', 'berth build -r contoso -t app:main https://git.example.com/team/app.git#main:src --git-access-token "$GIT_TOKEN"'],
      ['Queue a build and return its run id at once.', 'berth build -r contoso -t app:v2 . --no-wait --query runId -o tsv'],
      ['Check that the Dockerfile builds, without pushing.', 'berth build -r contoso --no-push .'],
    ],
  );
}
