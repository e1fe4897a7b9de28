/**
 * Commands that take another registry's credentials as `-u/--username` and `-p/--password`, as
 * `az acr import` and `az acr task credential add` do, while the same flags name the caller's own
 * Berth credential: those written before the command's first word are the caller's, those after
 * it the command's.
 */
import type { Command } from 'commander';
import { BerthClient } from './client.ts';
import { CommandContext, type GlobalOptions } from './context.ts';
import { configFilePath, readConfigFile, resolveSettings } from './settings.ts';

export interface Credential {
  username?: string;
  password?: string;
}

/** Global options that take a value (so that their value is not mistaken for the command name). */
const globalValueOptions = new Set(['--server', '-u', '--username', '-p', '--password', '--ca-file', '-o', '--output', '--query']);

/** Splits `-u/--username` and `-p/--password` of the command line into the caller's (before `word`) and the command's (after it). */
export function splitCommandCredentials(argv: readonly string[], word: string): { caller: Credential; command: Credential } {
  let position = 0;
  while (position < argv.length && argv[position] !== word) position += globalValueOptions.has(argv[position]!) ? 2 : 1;
  return { caller: credentialIn(argv.slice(0, position)), command: credentialIn(argv.slice(position + 1)) };
}

function credentialIn(args: readonly string[]): Credential {
  const found: Credential = {};
  for (let position = 0; position < args.length; position++) {
    const arg = args[position]!;
    for (const [field, short, long] of [['username', '-u', '--username'], ['password', '-p', '--password']] as const) {
      if (arg === short || arg === long) found[field] = args[++position];
      else if (arg.startsWith(`${long}=`)) found[field] = arg.slice(long.length + 1);
      else if (arg.startsWith(short) && !arg.startsWith('--') && arg.length > 2) found[field] = arg.slice(2);
    }
    if (arg === '--') break;
  }
  return found;
}

/** The context of a command whose first word is `word`, with the caller's credential taken only from before it. */
export async function contextWithCommandCredentials(command: Command, word: string): Promise<{ context: CommandContext; credential: Credential }> {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const { caller, command: credential } = splitCommandCredentials(process.argv.slice(2), word);
  const settings = resolveSettings({ ...globals, username: caller.username, password: caller.password }, process.env, await readConfigFile(configFilePath()));
  return { context: new CommandContext(settings, BerthClient.fromSettings(settings), globals), credential };
}
