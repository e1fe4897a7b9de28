/**
 * The token server under load on several keep-alive connections: `grant_type=refresh_token`
 * (what docker sends with a stored refresh token), Basic with an ACR token's generated password
 * (a keyed hash, no slow hash), and Basic with a user's password whose argon2 verification the
 * server remembers for a while; the goal is 1,000 requests/s for the first two. Then what the
 * cache hides: `docker login` with a password never used before costs one argon2 verification,
 * timed one at a time (beside the same login with a token password) and many at once.
 */
import { basicAuthorization } from '../auth.ts';
import { HttpClient } from '../http.ts';
import type { Credentials } from '../options.ts';
import { elapsedMs, now, percentile } from '../stats.ts';
import { pullScope, type AuthFixture } from './auth-setup.ts';
import { loadMetrics, measureLoad } from './measured-load.ts';
import { runPool, type Metric, type WorkloadContext } from './workload.ts';

const tokenGoal = { op: '>=', value: 1000 } as const;

export async function tokenServerMetrics(ctx: WorkloadContext, fixture: AuthFixture): Promise<Metric[]> {
  return [...(await grantMetrics(ctx, fixture)), ...(await firstLoginMetrics(ctx, fixture))];
}

async function grantMetrics(ctx: WorkloadContext, { tokenServer, acrToken, puller }: AuthFixture): Promise<Metric[]> {
  const connections = ctx.sizes.tokenConnections;
  const seconds = ctx.sizes.authSeconds;

  // A refresh token as `berth login` gets one; checked once before it is used under load.
  const refreshToken = await tokenServer.exchange(puller);
  await tokenServer.refreshGrant(refreshToken, pullScope);
  const refresh = await measureLoad(
    ctx,
    'token POST refresh_token grant',
    {
      url: tokenServer.realm.toString(),
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: tokenServer.refreshForm(refreshToken, pullScope),
      connections,
    },
    seconds,
  );

  const basicGet = (credentials: Credentials) => ({
    url: tokenServer.tokenUrl(pullScope),
    method: 'GET' as const,
    headers: { Authorization: basicAuthorization(credentials) },
    connections,
  });
  await tokenServer.basicToken(acrToken, pullScope);
  const tokenPassword = await measureLoad(ctx, 'token GET Basic ACR token password', basicGet(acrToken), seconds);
  // The warm-up's first request pays the argon2 verification; the measured ones hit the cache.
  const userPassword = await measureLoad(ctx, 'token GET Basic user password', basicGet(puller), seconds);

  return [
    ...loadMetrics('token POST refresh_token grant', refresh, tokenGoal),
    ...loadMetrics('token GET Basic, ACR token password', tokenPassword, tokenGoal),
    ...loadMetrics('token GET Basic, user password (argon2 cached)', userPassword),
  ];
}

async function firstLoginMetrics(ctx: WorkloadContext, { tokenServer, acrToken, newUsers }: AuthFixture): Promise<Metric[]> {
  const count = ctx.sizes.firstLogins;
  const concurrency = ctx.sizes.firstLoginConcurrency;
  const http = new HttpClient(ctx.target.url, concurrency);
  try {
    const login = async (credentials: Credentials): Promise<number> => {
      ctx.checkTime();
      const start = now();
      const status = await tokenServer.login(http, credentials);
      if (status !== 200) throw new Error(`docker login as ${credentials.username}: HTTP ${status}`);
      return elapsedMs(start);
    };

    const tokenLogins: number[] = [];
    for (let i = 0; i < count; i++) tokenLogins.push(await login(acrToken));
    const userLogins: number[] = [];
    for (const user of newUsers.slice(0, count)) userLogins.push(await login(user));

    const concurrent: number[] = [];
    const start = now();
    await runPool(count, concurrency, async (i) => {
      concurrent.push(await login(newUsers[count + i]!));
    });
    const loginsPerSecond = count / (elapsedMs(start) / 1000);

    const token = summarize(tokenLogins);
    const user = summarize(userLogins);
    const together = summarize(concurrent);
    ctx.log(
      `docker login one at a time: token password p50 ${token.p50.toFixed(2)} ms, user password p50 ${user.p50.toFixed(1)} ms ` +
        `(${(user.p50 / token.p50).toFixed(0)}x); ${concurrency} at once: ${loginsPerSecond.toFixed(0)} logins/s, p50 ${together.p50.toFixed(1)} ms`,
    );
    const one = 'docker login one at a time';
    const many = `docker login ${concurrency} at once, new user password`;
    return [
      { name: `${one}, ACR token password p50`, unit: 'ms', better: 'lower', value: token.p50, detail: { latenciesMs: tokenLogins } },
      { name: `${one}, ACR token password p99`, unit: 'ms', better: 'lower', value: token.p99 },
      { name: `${one}, new user password (argon2) p50`, unit: 'ms', better: 'lower', value: user.p50, detail: { latenciesMs: userLogins } },
      { name: `${one}, new user password (argon2) p99`, unit: 'ms', better: 'lower', value: user.p99 },
      { name: `${one}, user / token password p50`, unit: '×', better: 'lower', value: user.p50 / token.p50 },
      { name: `${many}`, unit: 'logins/s', better: 'higher', value: loginsPerSecond },
      { name: `${many} p50`, unit: 'ms', better: 'lower', value: together.p50, detail: { latenciesMs: concurrent } },
      { name: `${many} p99`, unit: 'ms', better: 'lower', value: together.p99 },
    ];
  } finally {
    http.close();
  }
}

function summarize(latenciesMs: number[]): { p50: number; p99: number } {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}
