/** The `berth` command: `serve` runs the server; the other verbs mirror `az acr` over the management API. */
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type ConfigInput } from '../config/config.ts';
import { startBerth } from '../server.ts';
import { callApi, CliError, serverUrl } from './client.ts';
import { printResult, type OutputFormat } from './output.ts';

interface GlobalOptions {
  server?: string;
  output: OutputFormat;
}

const program = new Command('berth')
  .description('Berth: self-hosted container registries with build tasks')
  .addOption(new Option('--server <url>', 'Berth server URL (default: $BERTH_SERVER or http://localhost:5000)'))
  .addOption(new Option('-o, --output <format>', 'output format').choices(['json', 'jsonc', 'tsv', 'table', 'none']).default('json'))
  .showHelpAfterError();

program
  .command('serve')
  .description('run the registry server')
  .option('--config <file>', 'JSON configuration file (or $BERTH_CONFIG)')
  .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:5000)')
  .option('--data <dir>', 'data directory (default ./data)')
  .option('--domain <domain>', 'registry domain: registry <name> is served at <name>.<domain> (default localhost)')
  .option('--default-registry <name>', 'registry answering any other host (default "default")')
  .option('--database <url>', 'metadata database: sqlite:<path> (default <data>/berth.db) or postgres://...')
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
  .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
  .option('--tls-self-signed', 'serve HTTPS with a private CA and certificate kept in the data directory')
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
  .action(async (options: Record<string, string | boolean | undefined>) => {
    const tls =
      options.tlsCert || options.tlsKey || options.tlsSelfSigned
        ? { cert: options.tlsCert as string | undefined, key: options.tlsKey as string | undefined, selfSigned: options.tlsSelfSigned === true }
        : undefined;
    const flags: ConfigInput & { config?: string } = {
      config: options.config as string | undefined,
      listen: options.listen as string | undefined,
      data: options.data as string | undefined,
      domain: options.domain as string | undefined,
      defaultRegistry: options.defaultRegistry as string | undefined,
      database: options.database as string | undefined,
      logLevel: options.logLevel as ConfigInput['logLevel'],
      tls,
    };
    const berth = await startBerth(loadConfig(flags));
    const stop = () => {
      berth.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

function globals(): GlobalOptions {
  return program.opts<GlobalOptions>();
}

program
  .command('create')
  .description('create a registry')
  .requiredOption('-n, --name <name>', 'registry name: 5-50 lower-case letters and digits')
  .action(async (options: { name: string }) => {
    const { server, output } = globals();
    printResult(await callApi(serverUrl(server), 'POST', '/registries', { name: options.name }), output);
  });

program
  .command('list')
  .description('list registries')
  .action(async () => {
    const { server, output } = globals();
    const result = await callApi<{ value: unknown[] }>(serverUrl(server), 'GET', '/registries');
    printResult(result?.value ?? [], output);
  });

program
  .command('show')
  .description('show a registry')
  .requiredOption('-n, --name <name>', 'registry name')
  .action(async (options: { name: string }) => {
    const { server, output } = globals();
    printResult(await callApi(serverUrl(server), 'GET', `/registries/${encodeURIComponent(options.name)}`), output);
  });

program
  .command('delete')
  .description('delete a registry and everything in it')
  .requiredOption('-n, --name <name>', 'registry name')
  .option('-y, --yes', 'do not prompt for confirmation')
  .action(async (options: { name: string }) => {
    const { server } = globals();
    await callApi(serverUrl(server), 'DELETE', `/registries/${encodeURIComponent(options.name)}`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CliError || error instanceof ConfigError) {
    process.stderr.write(`ERROR: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
});
