/**
 * The command tree a command line needs. `berth serve` gets the root command with `serve` alone:
 * the other commands' modules (HTTP client, output renderers, archives, YAML) would otherwise stay
 * loaded, for nothing, for the server's whole life.
 */
import type { Command } from 'commander';
import { registerServeCommand } from './commands/serve.ts';
import { rootCommand } from './root-command.ts';

/** `argv` as in `process.argv` (the node binary and the script first). */
export async function programFor(argv: readonly string[]): Promise<Command> {
  if (argv[2] === 'serve') {
    const program = rootCommand();
    registerServeCommand(program);
    return program;
  }
  return (await import('./program.ts')).buildProgram();
}
