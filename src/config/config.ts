/**
 * The server's one typed configuration. Sources, later ones winning: built-in defaults, a JSON
 * config file (`--config` or `BERTH_CONFIG`), `BERTH_*` environment variables, command-line flags.
 * Validated with zod at start-up; every effective setting is logged once.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const listenPattern = /^(?:\[[0-9a-fA-F:]+\]|[^:]+):\d{1,5}$/;

export const configSchema = z
  .object({
    listen: z.string().regex(listenPattern, 'listen must be HOST:PORT, e.g. 127.0.0.1:5000').default('127.0.0.1:5000'),
    data: z.string().min(1).default('./data'),
    domain: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'domain must be a DNS name such as localhost')
      .default('localhost'),
    defaultRegistry: z.string().regex(/^[a-z0-9]{5,50}$/, 'default registry must be 5-50 lower-case letters and digits').default('default'),
    /** `sqlite:<path>` (default: `<data>/berth.db`) or `postgres://...`. */
    database: z.string().optional(),
    tls: z
      .object({
        cert: z.string().optional(),
        key: z.string().optional(),
        selfSigned: z.boolean().default(false),
      })
      .default({ selfSigned: false })
      .refine((tls) => !!tls.cert === !!tls.key, 'tls cert and key must be given together')
      .refine((tls) => !(tls.selfSigned && tls.cert), 'choose either a certificate or a self-signed one, not both'),
    uploads: z
      .object({
        /** Sessions idle longer than this are abandoned and their bytes reclaimed; one that never received bytes ends this long after it was opened. */
        ttlMinutes: z.number().int().positive().default(24 * 60),
        sweepIntervalMinutes: z.number().positive().default(15),
        /**
         * Announced as `OCI-Chunk-Min-Length` when a session opens: the smallest chunk worth a
         * request of its own, so clients that read it send smaller blobs whole. Smaller chunks
         * are still accepted; 0 announces nothing.
         */
        chunkMinBytes: z.number().int().min(0).default(1024 * 1024),
      })
      .default({ ttlMinutes: 24 * 60, sweepIntervalMinutes: 15, chunkMinBytes: 1024 * 1024 }),
    auth: z
      .object({
        /** Lifetime of access tokens; changes of permissions reach holders of a token within it. */
        accessTokenSeconds: z.number().int().min(1).max(3600).default(300),
        refreshTokenSeconds: z.number().int().min(60).max(30 * 24 * 3600).default(3 * 3600),
        /** Failed logins per (source address, user name) within the window before a lockout. */
        throttle: z
          .object({
            maxFailures: z.number().int().positive().default(10),
            windowSeconds: z.number().int().positive().default(60),
            lockoutSeconds: z.number().int().positive().default(60),
          })
          .default({ maxFailures: 10, windowSeconds: 60, lockoutSeconds: 60 }),
      })
      .strict()
      .default({ accessTokenSeconds: 300, refreshTokenSeconds: 3 * 3600, throttle: { maxFailures: 10, windowSeconds: 60, lockoutSeconds: 60 } }),
    events: z
      .object({
        /** How often each node looks for events and due deliveries it was not woken for. */
        pollMilliseconds: z.number().int().min(10).default(1000),
        /** Consumed events and finished webhook deliveries are kept this long (for `list-events`). */
        keepDays: z.number().positive().default(7),
        webhooks: z
          .object({
            /** One delivery attempt, answer included, ends after this. */
            timeoutSeconds: z.number().positive().default(10),
            /** Attempts per event before it is recorded as failed. */
            maxAttempts: z.number().int().min(1).max(100).default(8),
            /** Wait before the first retry, doubling (with jitter) up to `retryMaxSeconds`. */
            retryBaseSeconds: z.number().positive().default(5),
            retryMaxSeconds: z.number().positive().default(900),
            /** Deliveries in flight at once (to different webhooks). */
            concurrency: z.number().int().min(1).max(256).default(8),
          })
          .strict()
          .default({ timeoutSeconds: 10, maxAttempts: 8, retryBaseSeconds: 5, retryMaxSeconds: 900, concurrency: 8 }),
      })
      .strict()
      .default({
        pollMilliseconds: 1000,
        keepDays: 7,
        webhooks: { timeoutSeconds: 10, maxAttempts: 8, retryBaseSeconds: 5, retryMaxSeconds: 900, concurrency: 8 },
      }),
    gc: z
      .object({
        /** Runs a garbage collection every `intervalMinutes` in the background. */
        enabled: z.boolean().default(true),
        intervalMinutes: z.number().positive().default(60),
        /** Blobs and links younger than this are never collected (see services/gc.ts). */
        gracePeriodSeconds: z.number().min(0).default(3600),
      })
      .strict()
      .default({ enabled: true, intervalMinutes: 60, gracePeriodSeconds: 3600 }),
    retention: z
      .object({
        /** How often the retention job deletes the untagged manifests retention policies make due. */
        intervalSeconds: z.number().positive().default(60),
      })
      .strict()
      .default({ intervalSeconds: 60 }),
    import: z
      .object({
        /** Source registries reached over plain http although not on a loopback address (`host` or `host:port`). */
        insecureRegistries: z.array(z.string().min(1)).default([]),
        /** Blobs one import transfers at the same time. */
        concurrency: z.number().int().min(1).max(32).default(4),
      })
      .strict()
      .default({ insecureRegistries: [], concurrency: 4 }),
    tasks: z
      .object({
        /** Run queued task runs on this node (a node may leave them to agent processes). */
        enabled: z.boolean().default(true),
        /** Runs executed at the same time on this node. */
        workers: z.number().int().min(1).max(64).default(2),
        /** Largest uploaded or fetched build context. */
        maxContextMiB: z.number().int().min(1).max(10_240).default(512),
        /** How often a node looks for runs queued elsewhere and for cancellations. */
        pollMilliseconds: z.number().int().min(10).default(1000),
        /** `--git-poll-interval`: seconds between polls of a commit-triggered task's branch, unless the task sets its own. */
        gitPollSeconds: z.number().int().min(1).max(86_400).default(60),
        /** How often timer triggers are checked (each fires once per cron occurrence). */
        timerTickSeconds: z.number().int().min(1).max(60).default(5),
        /** How often base images in external registries are polled (those of this installation trigger at once). */
        imagePollSeconds: z.number().int().min(1).default(600),
      })
      .strict()
      .default({ enabled: true, workers: 2, maxContextMiB: 512, pollMilliseconds: 1000, gitPollSeconds: 60, timerTickSeconds: 5, imagePollSeconds: 600 }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variables and the setting each one sets. */
const environment: Record<string, (value: string, into: Record<string, unknown>) => void> = {
  BERTH_LISTEN: (value, into) => (into.listen = value),
  BERTH_DATA: (value, into) => (into.data = value),
  BERTH_DOMAIN: (value, into) => (into.domain = value),
  BERTH_DEFAULT_REGISTRY: (value, into) => (into.defaultRegistry = value),
  BERTH_DATABASE: (value, into) => (into.database = value),
  BERTH_LOG_LEVEL: (value, into) => (into.logLevel = value),
  BERTH_GC_GRACE_PERIOD_SECONDS: (value, into) => (section(into, 'gc').gracePeriodSeconds = Number(value)),
  BERTH_TASK_WORKERS: (value, into) => (section(into, 'tasks').workers = Number(value)),
  BERTH_GIT_POLL_SECONDS: (value, into) => (section(into, 'tasks').gitPollSeconds = Number(value)),
  BERTH_AUTH_MAX_FAILURES: (value, into) => (authThrottle(into).maxFailures = Number(value)),
  BERTH_AUTH_LOCKOUT_SECONDS: (value, into) => (authThrottle(into).lockoutSeconds = Number(value)),
};

function section(into: Record<string, unknown>, name: string): Record<string, unknown> {
  return (into[name] ??= {}) as Record<string, unknown>;
}

function authThrottle(into: Record<string, unknown>): Record<string, unknown> {
  const auth = (into.auth ??= {}) as Record<string, unknown>;
  return (auth.throttle ??= {}) as Record<string, unknown>;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Merges the sources and validates the result. `flags` holds only the flags actually given. */
export function loadConfig(flags: ConfigInput & { config?: string }, env: NodeJS.ProcessEnv = process.env): Config {
  const { config: file = env.BERTH_CONFIG, ...flagValues } = flags;
  const merged: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const [name, apply] of Object.entries(environment)) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(value, merged);
  }
  for (const [key, value] of Object.entries(flagValues)) {
    if (value === undefined) continue;
    // Sections given by flags (`tls`, `tasks`) change only the settings the flags name.
    merged[key] = key === 'tls' || key === 'tasks' ? { ...(merged[key] as object | undefined), ...(value as object) } : value;
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

function readConfigFile(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
}

export function listenAddress(config: Config): { host: string; port: number } {
  const colon = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, colon).replace(/^\[|\]$/g, '');
  return { host, port: Number(config.listen.slice(colon + 1)) };
}

export function databaseUrl(config: Config): string {
  return config.database ?? `sqlite:${path.join(config.data, 'berth.db')}`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
