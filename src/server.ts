/**
 * The composition root: reads the configuration, builds the stores and services, wires the
 * HTTP rooms and starts listening. The only module that knows every room.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { mkdir } from 'node:fs/promises';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { databaseUrl, isLoopback, listenAddress, type Config } from './config/config.ts';
import { openMetaStore } from './meta/index.ts';
import type { MetaStore } from './meta/meta-store.ts';
import type { IdentityService } from './auth/identity-service.ts';
import { openBlobStore } from './store/index.ts';
import { BlobService } from './services/blobs.ts';
import { ManifestService } from './services/manifests.ts';
import { PurgeService } from './purge/purge-service.ts';
import { RegistryDirectory } from './services/registry-directory.ts';
import { UploadService } from './services/uploads.ts';
import { GarbageCollector } from './services/gc.ts';
import { scheduleCollections } from './services/gc-schedule.ts';
import { RetentionJob, scheduleRetention } from './services/retention.ts';
import { StorageQuota } from './services/quota.ts';
import { UsageService } from './services/usage.ts';
import { ListingService } from './services/listings.ts';
import { AttributeService } from './services/attributes.ts';
import { ImportService } from './import/import-service.ts';
import { installationRegistryResolver } from './import/installation-hosts.ts';
import { importPipeline } from './import/outbound.ts';
import { registryPlugin } from './registry/plugin.ts';
import { startEventDelivery } from './events/index.ts';
import { HeaderSeal } from './events/header-seal.ts';
import { WebhookClient } from './events/webhook-client.ts';
import { WebhookService } from './services/webhooks.ts';
import { createAuth } from './auth/index.ts';
import { deriveKey, loadInstallationSecret } from './auth/secrets.ts';
import { CallerResolver } from './oauth/callers.ts';
import { DataPlaneGate } from './oauth/gate.ts';
import { tokenApi } from './oauth/token-api.ts';
import { acrApi } from './api/acr/plugin.ts';
import { managementApi } from './api/plugin.ts';
import { registerOpenApi, type RouteRecord } from './api/openapi.ts';
import { createTasks, type Tasks } from './tasks/index.ts';
import { createMirrors } from './mirrors/index.ts';

export interface Berth {
  app: FastifyInstance;
  config: Config;
  directory: RegistryDirectory;
  /** The metadata store (for tools and tests that look below the APIs). */
  meta: MetaStore;
  uploads: UploadService;
  tasks: Tasks;
  /** Base URL once listening, e.g. `http://127.0.0.1:5000`. */
  url: string;
  /** Every route the server registered, for checking the API document against. */
  routes: readonly RouteRecord[];
  close(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  /** The installation owner created on first start; by default from `BERTH_OWNER_USERNAME` and `BERTH_OWNER_PASSWORD`. */
  owner?: { username?: string; password?: string };
  /** Prints the generated owner password, once (default: stdout). */
  announce?: (line: string) => void;
}

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function buildBerth(config: Config, options: BuildOptions = {}): Promise<Berth> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  await mkdir(config.data, { recursive: true });
  const connections = new OpenConnections();
  const meta: MetaStore = await openMetaStore({
    url: databaseUrl(config),
    // A commit's fdatasync is quicker on the event loop's thread, and holds up no one while a
    // single client is connected: an HTTP/1.1 connection carries one request at a time.
    syncOnCaller: () => connections.count <= 1,
  });
  const store = openBlobStore({ driver: 'fs', root: path.join(config.data, 'storage') });
  const directory = new RegistryDirectory(meta, { domain: config.domain, defaultRegistry: config.defaultRegistry });
  await directory.initialise();

  // TLS (and its X.509 library) is loaded only when configured.
  const tls = config.tls.selfSigned || config.tls.cert ? await (await import('./tls/server-tls.ts')).enableTls(config, directory, logger) : undefined;
  const secretKeyFile = path.join(config.data, 'secret.key');
  const auth = await createAuth({
    meta,
    secretKeyFile,
    accessTokenSeconds: config.auth.accessTokenSeconds,
    refreshTokenSeconds: config.auth.refreshTokenSeconds,
    throttle: config.auth.throttle,
  });
  await bootstrapOwner(auth.identity, options);

  const sessionKey = deriveKey(await loadInstallationSecret(secretKeyFile), 'upload sessions');
  const quota = new StorageQuota(meta);
  const uploads = new UploadService(meta, store, {
    ttlMs: config.uploads.ttlMinutes * 60_000,
    sessionKey,
    quota,
    chunkMinBytes: config.uploads.chunkMinBytes,
  });
  // Half the grace period; never less than a second, so a tiny grace does not turn reads into writes.
  const blobs = new BlobService(meta, store, { linkRefreshMs: Math.max(1000, config.gc.gracePeriodSeconds * 500) });
  const services = {
    blobs,
    uploads,
    manifests: new ManifestService(meta, blobs, quota),
  };
  const gc = new GarbageCollector(meta, store, uploads, { gracePeriodMs: config.gc.gracePeriodSeconds * 1000 });
  const webhookClient = new WebhookClient(new HeaderSeal(deriveKey(await loadInstallationSecret(secretKeyFile), 'webhook headers')), {
    timeoutMs: config.events.webhooks.timeoutSeconds * 1000,
    userAgent: `berth/${version}`,
  });

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
    // Unknown fields in a request body are refused (400), never silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
  });
  connections.track(app.server);
  const suffix = listeningPortSuffix(app);
  const loginServer = (registry: string) => `${directory.loginServer(registry)}${suffix()}`;
  const callers = new CallerResolver(auth.authenticator);
  const imports = new ImportService({
    meta,
    blobs,
    manifests: services.manifests,
    uploads,
    pipeline: importPipeline({ version }),
    installationRegistryOf: installationRegistryResolver(directory, suffix, host),
    insecureRegistries: config.import.insecureRegistries,
    concurrency: config.import.concurrency,
    logError: (error, job) => logger.error({ err: error, importId: job.id, registry: job.registry }, 'import failed'),
  });
  let baseUrl = '';
  const tasks = await createTasks({
    meta,
    identity: auth.identity,
    tokens: auth.tokens,
    directory,
    dataDir: config.data,
    secretKeyFile,
    portSuffix: suffix,
    listenHost: host,
    tls: config.tls.selfSigned ? 'self-signed' : config.tls.cert ? 'certificate' : 'none',
    serverUrl: () => baseUrl,
    concurrency: config.tasks.workers,
    pollMs: config.tasks.pollMilliseconds,
    maxContextBytes: config.tasks.maxContextMiB * 1024 * 1024,
    gitPollSeconds: config.tasks.gitPollSeconds,
    timerTickSeconds: config.tasks.timerTickSeconds,
    imagePollSeconds: config.tasks.imagePollSeconds,
    eventPollMs: config.events.pollMilliseconds,
    insecureRegistries: config.import.insecureRegistries,
    logger,
  });
  const mirrors = createMirrors({
    meta,
    imports,
    manifests: services.manifests,
    tasks: tasks.service,
    vault: tasks.vault,
    loginServer,
    registryOfHost: installationRegistryResolver(directory, suffix, host),
    registryExists: async (registry) => (await directory.get(registry)) !== undefined,
    insecureRegistries: config.import.insecureRegistries,
    pollSeconds: config.tasks.imagePollSeconds,
    eventPollMs: config.events.pollMilliseconds,
    logger,
  });
  const gate = new DataPlaneGate(callers, auth.authorizer, loginServer);
  const routes = await registerOpenApi(app, version);
  await app.register(registryPlugin, { directory, services, gate });
  await app.register(tokenApi, { directory, authenticator: auth.authenticator, tokens: auth.tokens });
  await app.register(acrApi, { directory, listings: new ListingService(meta), attributes: new AttributeService(meta, services.manifests), gate });
  await app.register(managementApi, {
    prefix: '/mgmt/v1',
    directory,
    identity: auth.identity,
    authorizer: auth.authorizer,
    tokens: auth.tokens,
    callers,
    portSuffix: suffix,
    refreshTokenSeconds: config.auth.refreshTokenSeconds,
    webhooks: new WebhookService(meta, webhookClient),
    authenticator: auth.authenticator,
    imports,
    gc,
    usage: new UsageService(meta, quota),
    purge: new PurgeService(meta, services.manifests),
    quarantinePolicies: meta.attributes,
    retentionPolicies: meta.retention,
    tasks: tasks.service,
    taskTriggers: tasks.service,
    gitWebhooks: { receiver: tasks.gitWebhooks },
    secrets: tasks.vault,
    mirrors: mirrors.service,
  });

  tls?.attach(app.server);

  const sweep = setInterval(() => {
    uploads.expireAbandoned().catch((error: unknown) => logger.error({ err: error }, 'expiring abandoned uploads failed'));
  }, config.uploads.sweepIntervalMinutes * 60_000);
  sweep.unref();
  const collections = scheduleCollections(gc, { enabled: config.gc.enabled, intervalMs: config.gc.intervalMinutes * 60_000, logger });
  const retention = scheduleRetention(new RetentionJob(meta.retention, services.manifests), {
    intervalMs: config.retention.intervalSeconds * 1000,
    logger,
  });
  const eventDelivery = startEventDelivery(meta, webhookClient, { ...config.events, logger });

  /** The task engine and mirrors, started once the server listens (see `close`). */
  let backgroundStart: Promise<void> | undefined;
  const berth: Berth = {
    app,
    config,
    directory,
    meta,
    uploads,
    tasks,
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    routes,
    async close() {
      // Whatever the listen hook starts must have started before it is stopped, or it would
      // start after the close and keep running.
      await backgroundStart?.catch(() => undefined);
      clearInterval(sweep);
      collections.stop();
      await retention.stop();
      await gc.close();
      await eventDelivery.stop();
      await mirrors.stop();
      await imports.close();
      await tasks.close();
      await app.close();
      await meta.close();
    },
  };
  app.addHook('onReady', async () => {
    await uploads.expireAbandoned();
  });
  app.addHook('onListen', async () => {
    const address = app.server.address();
    const listening = typeof address === 'object' && address ? address.port : port;
    baseUrl = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${listening}`;
    backgroundStart = (async () => {
      if (config.tasks.enabled) await tasks.start();
      mirrors.start();
    })();
    await backgroundStart;
  });
  return berth;
}

/** Builds Berth and listens on the configured address; logs every effective setting once. */
export async function startBerth(config: Config, options: BuildOptions = {}): Promise<Berth> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  logger.info({ config: { ...config, database: redact(databaseUrl(config)) } }, 'effective configuration');
  const berth = await buildBerth(config, { ...options, logger });
  const { host, port } = listenAddress(config);
  await berth.app.listen({ host, port });
  const address = berth.app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  berth.url = `${config.tls.selfSigned || config.tls.cert ? 'https' : 'http'}://${host}:${actualPort}`;
  const plainHttp = !(config.tls.selfSigned || config.tls.cert);
  logger.info(
    { url: berth.url, defaultRegistry: config.defaultRegistry, domain: config.domain },
    plainHttp && !isLoopback(host)
      ? `Berth listening on ${berth.url}; WARNING: plain HTTP on a non-loopback address sends credentials in clear text`
      : `Berth listening on ${berth.url}`,
  );
  return berth;
}

/**
 * Creates the installation owner on first start. Its password comes from the options or
 * `BERTH_OWNER_PASSWORD`; otherwise one is generated and printed once, never logged.
 */
async function bootstrapOwner(identity: IdentityService, options: BuildOptions): Promise<void> {
  const username = options.owner?.username ?? (process.env.BERTH_OWNER_USERNAME || 'owner');
  const password = options.owner?.password ?? (process.env.BERTH_OWNER_PASSWORD || undefined);
  const { generatedPassword } = await identity.bootstrapOwner(username, password);
  if (generatedPassword === undefined) return;
  const announce = options.announce ?? ((line: string) => void process.stdout.write(`${line}\n`));
  announce(`Installation owner created: username "${username}", password "${generatedPassword}" (shown once)`);
}

/** How many client connections a server has open. */
export class OpenConnections {
  #count = 0;

  get count(): number {
    return this.#count;
  }

  track(server: Pick<Server, 'on'>): void {
    server.on('connection', (socket: Socket) => {
      this.#count++;
      socket.once('close', () => this.#count--);
    });
  }
}

/**
 * The `:port` of login servers: the port actually listened on, omitted when it is the scheme's
 * default. Remembered once the server listens, since every data-plane request names it.
 */
function listeningPortSuffix(app: FastifyInstance): () => string {
  let known: string | undefined;
  return () => {
    if (known !== undefined) return known;
    const address = app.server.address();
    if (typeof address !== 'object' || !address) return '';
    known = address.port === 80 || address.port === 443 ? '' : `:${address.port}`;
    return known;
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}
