/** `berth serve`: runs the registry server. Its modules load only here, so other commands start fast. */
import type { Command } from 'commander';
import { parsePositiveInt } from '../arguments.ts';
import { CliError } from '../errors.ts';

export function registerServeCommand(program: Command): void {
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
    .option('--git-poll-interval <seconds>', "seconds between polls of a commit-triggered task's branch, unless the task sets its own (default 60)", parsePositiveInt)
    .addHelpText('after', '\nExamples:\n    Serve on all interfaces with a self-signed certificate.\n        berth serve --listen 0.0.0.0:5000 --data /var/lib/berth --tls-self-signed\n')
    .action(async (options: Record<string, string | number | boolean | undefined>) => {
      const { ConfigError, loadConfig } = await import('../../config/config.ts');
      const { startBerth } = await import('../../server.ts');
      const tls =
        options.tlsCert || options.tlsKey || options.tlsSelfSigned
          ? { cert: options.tlsCert as string | undefined, key: options.tlsKey as string | undefined, selfSigned: options.tlsSelfSigned === true }
          : undefined;
      const flags = {
        config: options.config as string | undefined,
        listen: options.listen as string | undefined,
        data: options.data as string | undefined,
        domain: options.domain as string | undefined,
        defaultRegistry: options.defaultRegistry as string | undefined,
        database: options.database as string | undefined,
        logLevel: options.logLevel as Parameters<typeof loadConfig>[0]['logLevel'],
        tls,
        tasks: options.gitPollInterval !== undefined ? { gitPollSeconds: options.gitPollInterval as number } : undefined,
      };
      let berth: Awaited<ReturnType<typeof startBerth>>;
      try {
        berth = await startBerth(loadConfig(flags));
      } catch (error) {
        if (error instanceof ConfigError) throw new CliError(error.message);
        throw error;
      }
      const stop = () => {
        berth.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
