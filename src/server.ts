/**
 * The composition root: reads the configuration, builds the stores and services, wires the
 * HTTP rooms and starts listening. The only module that knows every room.
 */
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { databaseUrl, isLoopback, listenAddress, type Config } from './config/config.ts';
import { openMetaStore } from './meta/index.ts';
import type { MetaStore } from './meta/meta-store.ts';
import { openBlobStore } from './store/index.ts';
import { BlobService } from './services/blobs.ts';
import { ManifestService } from './services/manifests.ts';
import { RegistryDirectory } from './services/registry-directory.ts';
import { UploadService } from './services/uploads.ts';
import { registryPlugin } from './registry/plugin.ts';
import { managementApi } from './api/plugin.ts';
import { enableTls, type TlsSetup } from './tls/server-tls.ts';

export interface Berth {
  app: FastifyInstance;
  config: Config;
  directory: RegistryDirectory;
  uploads: UploadService;
  /** Base URL once listening, e.g. `http://127.0.0.1:5000`. */
  url: string;
  close(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
}

export async function buildBerth(config: Config, options: BuildOptions = {}): Promise<Berth> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  await mkdir(config.data, { recursive: true });
  const meta: MetaStore = await openMetaStore({ url: databaseUrl(config) });
  const store = openBlobStore({ driver: 'fs', root: path.join(config.data, 'storage') });
  const directory = new RegistryDirectory(meta, { domain: config.domain, defaultRegistry: config.defaultRegistry });
  await directory.initialise();

  const tls = await enableTls(config, directory, logger);
  const uploads = new UploadService(meta, store, { ttlMs: config.uploads.ttlMinutes * 60_000 });
  const services = { blobs: new BlobService(meta, store), uploads, manifests: new ManifestService(meta) };

  const { host, port } = listenAddress(config);
  const app = Fastify({
    ...(tls ? { https: tls.serverOptions } : {}),
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request logging stays off the hot path; failures are logged by the error handlers.
    logController: new LogController({ disableRequestLogging: true }),
    // Large blob uploads may legitimately take long; idle connections are still reaped.
    requestTimeout: 0,
    keepAliveTimeout: 75_000,
    return503OnClosing: true,
  });
  await app.register(registryPlugin, { directory, services });
  await app.register(managementApi, { prefix: '/mgmt/v1', directory, portSuffix: () => portSuffix(app) });

  tls?.attach(app.server);

  const sweep = setInterval(() => {
    uploads.expireAbandoned().catch((error: unknown) => logger.error({ err: error }, 'expiring abandoned uploads failed'));
  }, config.uploads.sweepIntervalMinutes * 60_000);
  sweep.unref();

  const berth: Berth = {
    app,
    config,
    directory,
    uploads,
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    async close() {
      clearInterval(sweep);
      await app.close();
      await meta.close();
    },
  };
  app.addHook('onReady', async () => {
    await uploads.expireAbandoned();
  });
  return berth;
}

/** Builds Berth and listens on the configured address; logs every effective setting once. */
export async function startBerth(config: Config): Promise<Berth> {
  const logger = pino({ level: config.logLevel });
  logger.info({ config: { ...config, database: redact(databaseUrl(config)) } }, 'effective configuration');
  const berth = await buildBerth(config, { logger });
  const { host, port } = listenAddress(config);
  await berth.app.listen({ host, port });
  const address = berth.app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  berth.url = `${config.tls.selfSigned || config.tls.cert ? 'https' : 'http'}://${host}:${actualPort}`;
  logger.info(
    { url: berth.url, defaultRegistry: config.defaultRegistry, domain: config.domain },
    isLoopback(host)
      ? `Berth listening on ${berth.url}; access is open on loopback only (authentication is not enabled yet)`
      : `Berth listening on ${berth.url}; WARNING: access is open to anyone who can reach this address`,
  );
  return berth;
}

/** The `:port` of login servers: the port actually listened on, omitted when it is the scheme's default. */
function portSuffix(app: FastifyInstance): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return port === 80 || port === 443 || port === 0 ? '' : `:${port}`;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}
