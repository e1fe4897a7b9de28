import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertCliError, OWNER, startCliBerth, type CliBerth } from './cli-harness.ts';

describe('berth configure', () => {
  let cli: CliBerth;
  let other: CliBerth;
  const noEnvironment = { BERTH_SERVER: undefined, BERTH_USERNAME: undefined, BERTH_PASSWORD: undefined };

  before(async () => {
    cli = await startCliBerth();
    other = await startCliBerth();
    await cli.berth(['create', '-n', 'contoso']);
    await other.berth(['create', '-n', 'baseartifacts']);
  });
  after(async () => {
    await cli.close();
    await other.close();
  });

  const names = async (args: string[], env: Record<string, string | undefined>) => cli.json<string[]>(['list', '--query', '[].name', ...args], { env });

  it('saves server and credential (password from stdin) in a 0600 file that later commands use', async () => {
    await cli.berth(['configure', '--server', cli.server.url, '--username', OWNER.username, '--password-stdin'], { env: noEnvironment, input: `${OWNER.password}\n` });
    const file = path.join(cli.home, '.config', 'berth', 'config.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { server: cli.server.url, username: OWNER.username, password: OWNER.password });
    assert.deepEqual((await names([], noEnvironment)).sort(), ['contoso', 'default']);
  });

  it('the environment wins over the file, and flags over the environment', async () => {
    assert.deepEqual((await names([], { ...noEnvironment, BERTH_SERVER: other.server.url })).sort(), ['baseartifacts', 'default']);
    assert.deepEqual((await names(['--server', cli.server.url], { ...noEnvironment, BERTH_SERVER: other.server.url })).sort(), ['contoso', 'default']);
    assertCliError(await cli.berth(['list'], { env: { ...noEnvironment, BERTH_PASSWORD: 'wrong' }, allowFailure: true }), /.+/);
    assertCliError(await cli.berth(['list', '--password', 'wrong'], { env: noEnvironment, allowFailure: true }), /.+/);
    assert.deepEqual((await names(['-u', OWNER.username, '-p', OWNER.password], { ...noEnvironment, BERTH_PASSWORD: 'wrong' })).sort(), ['contoso', 'default']);
  });

  it('without options shows the configuration but not the password', async () => {
    await cli.berth(['configure', '--defaults', 'registry=contoso'], { env: noEnvironment });
    const shown = await cli.json<Record<string, unknown>>(['configure'], { env: noEnvironment });
    assert.deepEqual(shown, {
      configFile: path.join(cli.home, '.config', 'berth', 'config.json'),
      server: cli.server.url,
      username: OWNER.username,
      passwordSaved: true,
      defaults: { registry: 'contoso' },
    });
    assert.ok(!JSON.stringify(shown).includes(OWNER.password));
  });

  it('a new user name without a password forgets the old password', async () => {
    await cli.berth(['configure', '--username', 'someoneelse'], { env: noEnvironment });
    const shown = await cli.json<{ username: string; passwordSaved: boolean }>(['configure'], { env: noEnvironment });
    assert.deepEqual([shown.username, shown.passwordSaved], ['someoneelse', false]);
    assertCliError(await cli.berth(['list'], { env: noEnvironment, allowFailure: true }), /no password for someoneelse/);
  });

  it('rejects a server that is not an http(s) URL', async () => {
    assertCliError(await cli.berth(['configure', '--server', 'ftp://x'], { env: noEnvironment, allowFailure: true }), /http/);
    assertCliError(await cli.berth(['configure', '--defaults', 'colour=blue'], { env: noEnvironment, allowFailure: true }), /registry=<name>/);
  });
});

describe('berth against a server with a self-signed CA', () => {
  let cli: CliBerth;
  let ca: string;
  before(async () => {
    cli = await startCliBerth({ tls: { selfSigned: true } });
    ca = path.join(cli.server.dataDir, 'tls', 'ca.crt');
    await cli.berth(['create', '-n', 'contoso', '--ca-file', ca]);
  });
  after(() => cli.close());

  it('needs the CA: --ca-file, BERTH_CA_FILE, the configured caFile or NODE_EXTRA_CA_CERTS', async () => {
    assert.match(cli.server.url, /^https:/);
    assertCliError(await cli.berth(['list'], { allowFailure: true }), /--ca-file/);
    assert.ok((await cli.json<string[]>(['list', '--ca-file', ca, '--query', '[].name'])).includes('contoso'));
    assert.ok((await cli.json<string[]>(['list', '--query', '[].name'], { env: { BERTH_CA_FILE: ca } })).includes('contoso'));
    assert.ok((await cli.json<string[]>(['list', '--query', '[].name'], { env: { NODE_EXTRA_CA_CERTS: ca } })).includes('contoso'));
    await cli.berth(['configure', '--ca-file', ca]);
    assert.ok((await cli.json<string[]>(['list', '--query', '[].name'])).includes('contoso'));
  });

  it('reaches a registry through its login server name over TLS', async () => {
    assert.deepEqual(await cli.json(['repository', 'list', '-n', 'contoso']), []);
    const exposed = await cli.json<{ loginServer: string }>(['login', '-n', 'contoso', '--expose-token']);
    assert.equal(exposed.loginServer, cli.loginServer('contoso'));
  });
});
