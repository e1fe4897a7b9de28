/** `berth configure`: saves the server, the caller's credential, a CA file and defaults for later commands. */
import path from 'node:path';
import type { Command } from 'commander';
import { parseDefaults } from '../arguments.ts';
import type { GlobalOptions } from '../context.ts';
import { examples } from '../context.ts';
import { CliError } from '../errors.ts';
import { render, terminalColour } from '../output.ts';
import { promptHidden, readStdinSecret } from '../prompt.ts';
import { configFilePath, readConfigFile, writeConfigFile, type CliConfigFile } from '../settings.ts';

interface ConfigureOptions {
  passwordStdin?: boolean;
  defaults?: string[];
}

function checkServer(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new CliError(`--server ${server}: expected a URL such as https://berth.example.com:5000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--server ${server}: expected http:// or https://`);
  return server.replace(/\/+$/, '');
}

/** The configuration after this command's flags: a new user name without a password drops the old password. */
async function applyFlags(current: CliConfigFile, globals: GlobalOptions, options: ConfigureOptions): Promise<CliConfigFile> {
  const next: CliConfigFile = { ...current };
  if (globals.server !== undefined) next.server = checkServer(globals.server);
  if (globals.caFile !== undefined) next.caFile = globals.caFile === '' ? undefined : path.resolve(globals.caFile);
  let password = globals.password;
  if (options.passwordStdin) {
    if (password !== undefined) throw new CliError('give either --password or --password-stdin');
    password = await readStdinSecret();
  }
  if (globals.username !== undefined) {
    if (password === undefined && process.stdin.isTTY) password = await promptHidden(`Password for ${globals.username}: `);
    if (password === undefined && globals.username !== current.username) delete next.password;
    next.username = globals.username;
  }
  if (password !== undefined) {
    if (next.username === undefined) throw new CliError('a password needs a user name: add --username');
    next.password = password;
  }
  if (options.defaults) {
    const defaults = { ...current.defaults, ...parseDefaults(options.defaults) };
    if (defaults.registry === '') delete defaults.registry;
    next.defaults = defaults;
  }
  return next;
}

export function registerConfigureCommand(program: Command): void {
  examples(
    program
      .command('configure')
      .description(
        'save the server address, your Berth credential (--username, prompting for the password or --password-stdin), a CA file (--ca-file) and defaults; without options, show the saved configuration',
      )
      .option('--password-stdin', 'read the password from stdin')
      .option('--defaults <key=value...>', 'defaults for later commands: registry=<name> (empty value to clear)')
      .action(async (options: ConfigureOptions, command: Command) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        const file = configFilePath();
        const current = await readConfigFile(file);
        const changing = [globals.server, globals.username, globals.password, globals.caFile, options.defaults, options.passwordStdin].some((value) => value !== undefined);
        if (!changing) {
          const shown = { configFile: file, server: current.server, username: current.username, passwordSaved: current.password !== undefined, caFile: current.caFile, defaults: current.defaults ?? {} };
          process.stdout.write(render(shown, { format: globals.output, query: globals.query, colour: terminalColour() }));
          return;
        }
        await writeConfigFile(file, await applyFlags(current, globals, options));
        process.stderr.write(`Configuration saved to ${file}\n`);
      }),
    [
      ['Save the server and your credential (prompting for the password).', 'berth configure --server https://berth.example.com --username alice'],
      ['Save a credential for scripts.', 'printf %s "$BERTH_PASSWORD" | berth configure --server http://localhost:5000 --username owner --password-stdin'],
      ["Trust a server's self-signed CA.", 'berth configure --ca-file /var/lib/berth/tls/ca.pem'],
      ['Use contoso when -n/-r is omitted.', 'berth configure --defaults registry=contoso'],
    ],
  );
}
