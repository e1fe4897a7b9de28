/**
 * Workload 7, Berth only (Distribution has no token server): what authentication costs.
 * Manifest GET by tag on many keep-alive connections (a) anonymously where anonymous pull is on,
 * (b) with a bearer access token fetched once and reused, as docker does, (c) with an ACR
 * token's Basic credentials on every request; the goal is (b) within 15% of (a). Then the token
 * server: see auth-token-server.ts.
 */
import { basicAuthorization } from '../auth.ts';
import { servesBerthApi } from '../berth-api.ts';
import { expectStatus, HttpClient } from '../http.ts';
import type { RunningTarget } from '../targets.ts';
import { authRepository, authTag, pullScope, setUpAuth, type AuthFixture } from './auth-setup.ts';
import { tokenServerMetrics } from './auth-token-server.ts';
import { manifestAccept } from './manifests.ts';
import { loadMetrics, measureLoad, type Measurement } from './measured-load.ts';
import type { Metric, Workload, WorkloadContext } from './workload.ts';

/** Authenticated GETs with a cached token may be at most 15% slower than anonymous ones. */
const bearerGoal = { op: '>=', value: 0.85 } as const;
/** Seconds an access token must outlive the bearer run by. */
const tokenMarginSeconds = 5;

export const authWorkload: Workload = {
  name: 'auth',
  title: (s) =>
    `Authentication (Berth only): manifest GET by tag on ${s.manifestConnections} connections, ` +
    `/oauth2/token on ${s.tokenConnections}, ${s.authSeconds} s each; first logins of ${s.firstLogins} users`,
  skip: skipReason,
  async run(ctx) {
    const fixture = await setUpAuth(ctx);
    try {
      return [...(await manifestMetrics(ctx, fixture)), ...(await tokenServerMetrics(ctx, fixture))];
    } finally {
      await fixture.cleanUp();
    }
  },
};

async function skipReason(target: RunningTarget): Promise<string | undefined> {
  if (target.kind === 'distribution') return 'Distribution has no token server';
  if (!target.credentials) return 'the installation owner credentials are unknown (--berth-user, --berth-password)';
  if (!(await servesBerthApi(target.url))) return 'no Berth management API at /mgmt/v1';
  return undefined;
}

async function manifestMetrics(ctx: WorkloadContext, fixture: AuthFixture): Promise<Metric[]> {
  const { api, registry, tokenServer, acrToken } = fixture;
  const url = `${ctx.target.url}/v2/${authRepository}/manifests/${authTag}`;
  const request = (headers: Record<string, string>) => ({
    url,
    method: 'GET' as const,
    headers: { Accept: manifestAccept, ...headers },
    connections: ctx.sizes.manifestConnections,
  });

  const previous = await api.setAnonymousPull(registry, true);
  let anonymous: Measurement;
  try {
    await expectAnonymousPull(url);
    anonymous = await measureLoad(ctx, 'manifest GET anonymous', request({}), ctx.sizes.authSeconds);
  } finally {
    await api.setAnonymousPull(registry, previous);
  }

  // The authenticated runs are on a private registry, as most are.
  const access = await tokenServer.basicToken(acrToken, pullScope);
  const needed = ctx.sizes.manifestWarmupSeconds + ctx.sizes.authSeconds + tokenMarginSeconds;
  if (access.expiresIn < needed) {
    throw new Error(`access tokens live ${access.expiresIn} s, the bearer run needs ${needed} s: lower --auth-seconds`);
  }
  const bearer = await measureLoad(ctx, 'manifest GET Bearer', request({ Authorization: `Bearer ${access.token}` }), ctx.sizes.authSeconds);
  const basic = await measureLoad(ctx, 'manifest GET Basic token', request({ Authorization: basicAuthorization(acrToken) }), ctx.sizes.authSeconds);

  const perSecond = (m: Measurement) => m.result.requestsPerSecond;
  return [
    ...loadMetrics('manifest GET anonymous', anonymous),
    ...loadMetrics('manifest GET Bearer, token fetched once', bearer),
    ...loadMetrics('manifest GET Basic, ACR token password', basic),
    { name: 'manifest GET Bearer / anonymous requests/s', unit: '×', better: 'higher', value: perSecond(bearer) / perSecond(anonymous), goal: bearerGoal },
    { name: 'manifest GET Basic / anonymous requests/s', unit: '×', better: 'higher', value: perSecond(basic) / perSecond(anonymous) },
  ];
}

/** One anonymous GET, so a registry that still refuses it fails with its own answer. */
async function expectAnonymousPull(url: string): Promise<void> {
  const http = new HttpClient(url, 1);
  try {
    expectStatus(await http.request('GET', url, { headers: { Accept: manifestAccept }, read: 'buffer' }), [200], 'anonymous GET with anonymous pull on');
  } finally {
    http.close();
  }
}
