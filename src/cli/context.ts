/** What every command gets: resolved settings, a client for the server, and az-style printing. */
import type { Command } from 'commander';
import { BerthClient } from './client.ts';
import { CliError } from './errors.ts';
import { render, terminalColour, type OutputFormat, type TableColumn } from './output.ts';
import { configFilePath, readConfigFile, resolveSettings, type Settings, type SettingsFlags } from './settings.ts';

export interface GlobalOptions extends SettingsFlags {
  output: OutputFormat;
  query?: string;
}

export class CommandContext {
  constructor(
    readonly settings: Settings,
    readonly client: BerthClient,
    private readonly globals: GlobalOptions,
  ) {}

  /** `tableItems` picks the rows of a table out of the value (e.g. a `{value: [...]}` listing printed whole otherwise). */
  print(value: unknown, table?: TableColumn[], tableItems?: (value: unknown) => unknown): void {
    const shown = tableItems && this.globals.output === 'table' && this.globals.query === undefined ? tableItems(value) : value;
    process.stdout.write(render(shown, { format: this.globals.output, query: this.globals.query, table, colour: terminalColour() }));
  }

  /** The registry a command acts on: its flag, else `BERTH_REGISTRY`, else the configured default. */
  registry(flag: string | undefined, flagName = '-n/--name'): string {
    const name = flag ?? this.settings.defaultRegistry;
    if (!name) throw new CliError(`the registry is required: pass ${flagName}, set BERTH_REGISTRY or run 'berth configure --defaults registry=<name>'`);
    return name;
  }
}

export async function contextOf(command: Command): Promise<CommandContext> {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const settings = resolveSettings(globals, process.env, await readConfigFile(configFilePath()));
  return new CommandContext(settings, BerthClient.fromSettings(settings), globals);
}

/** Wraps a command handler so that it receives its options and a ready context. */
export function handler<O>(run: (options: O, context: CommandContext) => Promise<void>): (options: O, command: Command) => Promise<void> {
  return async (options, command) => run(options, await contextOf(command));
}

/** Adds az's "Examples" section to a command's `--help`. */
export function examples(command: Command, items: [description: string, commandLine: string][]): Command {
  const text = items.map(([description, commandLine]) => `    ${description}\n        ${commandLine}`).join('\n\n');
  return command.addHelpText('after', `\nExamples:\n${text}\n`);
}
