/**
 * Turns the `tls` configuration into HTTPS for the server: the operator's certificate files, or a
 * self-signed certificate kept under `<data>/tls/` and reissued whenever a registry is created, so
 * every login server stays covered.
 */
import path from 'node:path';
import type { Server } from 'node:http';
import type { Server as TlsServer, SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { RegistryDirectory } from '../services/registry-directory.ts';
import { ensureSelfSignedTls, selfSignedNames, trustInstructions } from './self-signed.ts';
import { readTlsFiles, tlsServerOptions, TlsReloader } from './tls-options.ts';

export interface TlsSetup {
  serverOptions: SecureContextOptions;
  /** Hooks certificate renewal to the listening server (self-signed only). */
  attach(server: Server | TlsServer): void;
}

export async function enableTls(config: Config, directory: RegistryDirectory, logger: Logger): Promise<TlsSetup | undefined> {
  if (config.tls.cert && config.tls.key) {
    const material = await readTlsFiles(config.tls.cert, config.tls.key);
    logger.info({ cert: config.tls.cert }, 'serving HTTPS with the configured certificate');
    return { serverOptions: tlsServerOptions(material), attach: () => {} };
  }
  if (!config.tls.selfSigned) return undefined;

  const dir = path.join(config.data, 'tls');
  const registryNames = async () => (await directory.list()).map((registry) => registry.name);
  const material = await ensureSelfSignedTls(dir, selfSignedNames(config.domain, await registryNames()));
  const message = `serving HTTPS with a self-signed certificate from Berth's private CA ${material.caCertPath}`;
  logger.info({ ca: material.caCertPath, newCa: material.caCreated }, message);
  if (material.caCreated) process.stdout.write(`${trustInstructions(material.caCertPath, directory.loginServers())}\n`);
  return {
    serverOptions: tlsServerOptions(material),
    attach(server) {
      const reloader = new TlsReloader(server as TlsServer, dir, material);
      directory.onChange(async (names) => {
        if (await reloader.update(selfSignedNames(config.domain, names))) logger.info({ registries: names }, 'server certificate reissued');
      });
    },
  };
}
