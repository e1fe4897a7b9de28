/**
 * A throwaway PostgreSQL 15 cluster for one test file: its own temp dir, a random loopback port
 * and its socket in that dir, so several test files can run clusters side by side. Durability is
 * switched off (fsync) to keep tests fast.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const bin = '/usr/lib/postgresql/15/bin';
const startAttempts = 3;
const execFileAsync = promisify(execFile);

export interface PostgresCluster {
  /** A fresh, empty database. */
  url: string;
  /**
   * Creates another empty database and returns its URL. Its default collation is linguistic
   * (ICU `en-US`) unlike the cluster's C locale, so tests notice a name column that does not
   * sort by bytes.
   */
  createDatabase(): Promise<string>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const isRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL program as user `postgres` (it refuses to run as root). */
function postgresCommand(program: string, args: string[]): [string, string[]] {
  const path = join(bin, program);
  return isRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

async function runAsPostgres(program: string, args: string[]): Promise<void> {
  const [command, commandArgs] = postgresCommand(program, args);
  await execFileAsync(command, commandArgs, { timeout: 60_000 });
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function ownedByPostgres(dir: string): Promise<void> {
  if (!isRoot) return;
  const { stdout } = await execFileAsync('id', ['-u', 'postgres']);
  const { stdout: gid } = await execFileAsync('id', ['-g', 'postgres']);
  await chown(dir, Number(stdout.trim()), Number(gid.trim()));
}

export async function startPostgres(): Promise<PostgresCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    const [command, args] = postgresCommand('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 });
  };

  try {
    await ownedByPostgres(dir);
    await runAsPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = [
        '-c listen_addresses=127.0.0.1',
        `-p ${port}`,
        `-k ${dir}`,
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
      ].join(' ');
      try {
        await runAsPostgres('pg_ctl', ['-D', data, '-l', log, '-o', options, '-w', '-t', '30', 'start']);
        break;
      } catch (error) {
        // Another process may have taken the port between our probe and the server's bind.
        if (attempt >= startAttempts) throw error;
      }
    }
    // A test process that dies without calling stop() must not leave a server behind.
    process.once('exit', stopNow);

    const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let databases = 0;
    const createDatabase = async (): Promise<string> => {
      const name = `berth_${++databases}`;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(
          `create database ${name} template template0 encoding 'UTF8' locale_provider icu icu_locale 'en-US' locale 'C'`,
        );
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    };

    return {
      url: await createDatabase(),
      createDatabase,
      async stop() {
        process.removeListener('exit', stopNow);
        stopNow();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    stopNow();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL as ${userInfo().username} in ${dir}`, { cause: error });
  }
}
