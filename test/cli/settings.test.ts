import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliError } from '../../src/cli/errors.ts';
import { configFilePath, DEFAULT_SERVER, readConfigFile, resolveSettings, writeConfigFile } from '../../src/cli/settings.ts';

const file = { server: 'http://file:1', username: 'fileuser', password: 'filepw', caFile: '/file/ca.pem', defaults: { registry: 'fileregistry' } };
const env = { BERTH_SERVER: 'http://env:2', BERTH_USERNAME: 'envuser', BERTH_PASSWORD: 'envpw', BERTH_CA_FILE: '/env/ca.pem', BERTH_REGISTRY: 'envregistry' };
const flags = { server: 'http://flag:3/', username: 'flaguser', password: 'flagpw', caFile: '/flag/ca.pem' };

describe('CLI settings precedence', () => {
  it('flags win over the environment, which wins over the config file', () => {
    assert.deepEqual(resolveSettings(flags, env, file), {
      server: 'http://flag:3',
      username: 'flaguser',
      password: 'flagpw',
      caFile: '/flag/ca.pem',
      defaultRegistry: 'envregistry',
    });
    assert.deepEqual(resolveSettings({}, env, file), {
      server: 'http://env:2',
      username: 'envuser',
      password: 'envpw',
      caFile: '/env/ca.pem',
      defaultRegistry: 'envregistry',
    });
    assert.deepEqual(resolveSettings({}, {}, file), {
      server: 'http://file:1',
      username: 'fileuser',
      password: 'filepw',
      caFile: '/file/ca.pem',
      defaultRegistry: 'fileregistry',
    });
  });

  it('each setting falls back on its own; empty values count as unset', () => {
    const settings = resolveSettings({ username: 'flaguser' }, { BERTH_PASSWORD: 'envpw', BERTH_SERVER: '' }, { server: 'http://file:1' });
    assert.deepEqual(settings, { server: 'http://file:1', username: 'flaguser', password: 'envpw', caFile: undefined, defaultRegistry: undefined });
  });

  it('with nothing configured: http://localhost:5000 and no identity', () => {
    assert.equal(DEFAULT_SERVER, 'http://localhost:5000');
    assert.deepEqual(resolveSettings({}, {}, {}), { server: 'http://localhost:5000', username: undefined, password: undefined, caFile: undefined, defaultRegistry: undefined });
  });

  it('the config file lives under XDG_CONFIG_HOME, else ~/.config', () => {
    assert.equal(configFilePath({ HOME: '/home/alice' }), '/home/alice/.config/berth/config.json');
    assert.equal(configFilePath({ HOME: '/home/alice', XDG_CONFIG_HOME: '/xdg' }), '/xdg/berth/config.json');
  });
});

describe('CLI config file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-cli-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is written readable by its owner only and read back', async () => {
    const target = path.join(dir, 'berth', 'config.json');
    await writeConfigFile(target, file);
    assert.equal((await stat(target)).mode & 0o777, 0o600);
    assert.deepEqual(await readConfigFile(target), file);
    assert.deepEqual(JSON.parse(await readFile(target, 'utf8')), file);
  });

  it('a missing file is empty; a broken one is an error that names it', async () => {
    assert.deepEqual(await readConfigFile(path.join(dir, 'nothing.json')), {});
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{not json');
    await assert.rejects(readConfigFile(broken), (error: unknown) => error instanceof CliError && error.message.includes(broken));
  });
});
