/**
 * What the auth workload needs on a Berth, made through the management API as the installation
 * owner, untimed: an image to pull, a token (ACR token) bound to a pull-only scope map, a user
 * with AcrPull on the registry, and users who have never logged in. Names carry a random
 * suffix so a registry reached by URL can be measured again; everything is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { ManagementApi, TokenServer } from '../berth-api.ts';
import { makeSmallImage, pushSmallImage } from '../images.ts';
import type { Credentials } from '../options.ts';
import { runPool, type WorkloadContext } from './workload.ts';

export const authRepository = 'bench/auth';
export const authTag = 'latest';
/** The scope docker asks for before pulling from the repository. */
export const pullScope = `repository:${authRepository}:pull`;

/** Users are created this many at a time: each creation is an argon2 hash on the server. */
const userCreationConcurrency = 4;

export interface AuthFixture {
  /** The registry the target's URL addresses. */
  registry: string;
  api: ManagementApi;
  tokenServer: TokenServer;
  /** An ACR token with `content/read` on the repository: its name and a generated password. */
  acrToken: Credentials;
  /** A user with AcrPull on the registry. */
  puller: Credentials;
  /** Users with no role who have not logged in yet (twice `firstLogins`). */
  newUsers: Credentials[];
  cleanUp(): Promise<void>;
}

export async function setUpAuth(ctx: WorkloadContext): Promise<AuthFixture> {
  const owner = ctx.target.credentials;
  if (!owner) throw new Error('the owner credentials are unknown');
  const client = await ctx.connect(1, authRepository);
  try {
    await pushSmallImage(client, authRepository, authTag, makeSmallImage('auth-workload', ctx.sizes.smallLayerBytes));
  } finally {
    client.close();
  }

  const tokenServer = await TokenServer.discover(ctx.target.url, `/v2/${authRepository}/manifests/${authTag}`);
  const api = new ManagementApi(ctx.target.url, owner);
  const undo: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const step of undo.reverse()) {
      await step().catch((error: unknown) => ctx.log(`clean-up: ${(error as Error).message}`));
    }
    api.close();
    tokenServer.close();
  };

  try {
    // The registry a request to this URL reaches is named in the tokens the server issues for it.
    const registry = (await tokenServer.basicToken(owner, pullScope)).claims['registry'];
    if (typeof registry !== 'string') throw new Error('the access token names no registry');
    const suffix = randomBytes(3).toString('hex');

    const scopeMap = `bench-pull-${suffix}`;
    await api.createScopeMap(registry, scopeMap, [`repositories/${authRepository}/content/read`]);
    undo.push(() => api.deleteScopeMap(registry, scopeMap));
    const tokenName = `bench-token-${suffix}`;
    const tokenPassword = await api.createToken(registry, tokenName, scopeMap);
    undo.push(() => api.deleteToken(registry, tokenName));

    const puller = { username: `bench-puller-${suffix}`, password: newPassword() };
    await api.createUser(puller.username, puller.password);
    undo.push(() => api.deleteUser(puller.username));
    await api.assignRole(puller.username, 'AcrPull', `/registries/${registry}`);

    ctx.log(`creating ${2 * ctx.sizes.firstLogins} users for the first-login measurements`);
    const newUsers = Array.from({ length: 2 * ctx.sizes.firstLogins }, (_, i) => ({ username: `bench-login-${suffix}-${i}`, password: newPassword() }));
    await runPool(newUsers.length, userCreationConcurrency, async (i) => {
      ctx.checkTime();
      await api.createUser(newUsers[i]!.username, newUsers[i]!.password);
      undo.push(() => api.deleteUser(newUsers[i]!.username));
    });

    return { registry, api, tokenServer, acrToken: { username: tokenName, password: tokenPassword }, puller, newUsers, cleanUp };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

function newPassword(): string {
  return randomBytes(18).toString('base64url');
}
