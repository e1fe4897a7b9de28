/** The `berth` command tree: `serve` runs the server; the other verbs mirror `az acr` over HTTP. */
import type { Command } from 'commander';
import { registerBuildCommand } from './commands/build.ts';
import { registerConfigureCommand } from './commands/configure.ts';
import { registerCredentialCommands } from './commands/credential.ts';
import { registerGcCommands } from './commands/gc.ts';
import { registerImportCommand } from './commands/import.ts';
import { registerLoginCommand } from './commands/login.ts';
import { registerMirrorCommands } from './commands/mirror.ts';
import { registerPurgeCommand } from './commands/purge.ts';
import { registerQuarantineCommands } from './commands/quarantine.ts';
import { registerRetentionCommands } from './commands/retention.ts';
import { registerRegistryCommands } from './commands/registry.ts';
import { registerRepositoryCommands } from './commands/repository.ts';
import { registerRoleCommands } from './commands/role.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerScopeMapCommands } from './commands/scope-map.ts';
import { registerSecretCommands } from './commands/secret.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerSpCommands } from './commands/sp.ts';
import { registerTaskCommands } from './commands/task.ts';
import { registerTokenCommands } from './commands/token.ts';
import { registerUsageCommand } from './commands/usage.ts';
import { registerUserCommands } from './commands/user.ts';
import { registerWebhookCommands } from './commands/webhook.ts';
import { rootCommand } from './root-command.ts';

export function buildProgram(): Command {
  const program = rootCommand();

  registerServeCommand(program);
  registerConfigureCommand(program);
  registerLoginCommand(program);
  registerRegistryCommands(program);
  registerUsageCommand(program);
  registerCredentialCommands(program);
  registerUserCommands(program);
  registerSpCommands(program);
  registerRoleCommands(program);
  registerScopeMapCommands(program);
  registerTokenCommands(program);
  registerRepositoryCommands(program);
  registerGcCommands(program);
  registerPurgeCommand(program);
  registerImportCommand(program);
  registerWebhookCommands(program);
  registerQuarantineCommands(program);
  registerRetentionCommands(program);
  registerBuildCommand(program);
  registerRunCommand(program);
  registerTaskCommands(program);
  registerSecretCommands(program);
  registerMirrorCommands(program);
  return program;
}
