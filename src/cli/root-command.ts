/** The `berth` root command: its description, the global options and how errors are shown, without any subcommand. */
import { Command, Option } from 'commander';
import { outputFormats } from './output-formats.ts';

export function rootCommand(): Command {
  return new Command('berth')
    .description('Berth: self-hosted container registries with build tasks')
    .addOption(new Option('--server <url>', 'Berth server URL (default: $BERTH_SERVER, the configured server, or http://localhost:5000)'))
    .addOption(new Option('-u, --username <name>', 'your Berth user name or service principal app id (default: $BERTH_USERNAME or configured)'))
    .addOption(new Option('-p, --password <password>', 'its password (default: $BERTH_PASSWORD or configured)'))
    .addOption(new Option('--ca-file <file>', "PEM file of the server's CA, e.g. a self-signed one (default: $BERTH_CA_FILE or configured)"))
    .addOption(new Option('-o, --output <format>', 'output format').choices(outputFormats).default('json'))
    .addOption(new Option('--query <jmespath>', 'JMESPath query applied to the result before it is printed'))
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage and examples)')
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'ERROR: ')) });
}
