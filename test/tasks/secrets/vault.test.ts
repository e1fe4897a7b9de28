import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { deriveKey, loadInstallationSecret } from '../../../src/auth/secrets.ts';
import { openMetaStore, type MetaStore } from '../../../src/meta/index.ts';
import { SecretNotFoundError } from '../../../src/tasks/secrets/secret-vault.ts';
import { StoredSecretVault } from '../../../src/tasks/secrets/vault.ts';
import { TaskError } from '../../../src/tasks/task-service.ts';

describe('StoredSecretVault', () => {
  let dir: string;
  let dbFile: string;
  let meta: MetaStore;
  let vault: StoredSecretVault;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-vault-'));
    dbFile = join(dir, 'berth.db');
    meta = await openMetaStore({ url: `sqlite:${dbFile}` });
    vault = new StoredSecretVault(meta.tasks, deriveKey(await loadInstallationSecret(join(dir, 'secret.key')), 'secret vault'));
  });

  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  function rawValue(vaultName: string, name: string): string {
    const db = new Database(dbFile, { readonly: true });
    try {
      const row = db.prepare('select value from secrets where vault = ? and name = ?').get(vaultName, name) as { value: string } | undefined;
      assert.ok(row, `no row for ${vaultName}/${name}`);
      return row.value;
    } finally {
      db.close();
    }
  }

  it('stores a secret, shows it, lists it without values, deletes it', async () => {
    const set = await vault.set('MyVault', 'registry-password', 'p@ss w0rd ✓', 'text/plain');
    assert.equal(set.vault, 'myvault');
    assert.equal(set.value, 'p@ss w0rd ✓');
    assert.match(set.version, /^[0-9a-f]{32}$/);
    assert.equal(set.id, `https://myvault.vault.azure.net/secrets/registry-password/${set.version}`);

    const shown = await vault.show('myvault', 'registry-password');
    assert.equal(shown?.value, 'p@ss w0rd ✓');
    assert.equal(shown?.contentType, 'text/plain');

    await vault.set('myvault', 'other', 'x');
    const listed = await vault.list('MYVAULT');
    assert.deepEqual(listed.map((s) => s.name), ['other', 'registry-password']);
    assert.ok(listed.every((s) => s.value === undefined));

    assert.equal(await vault.delete('myvault', 'other'), true);
    assert.equal(await vault.delete('myvault', 'other'), false);
    assert.equal(await vault.show('myvault', 'other'), undefined);
  });

  it('gives every set a new version', async () => {
    const first = await vault.set('versions', 'pw', 'one');
    const second = await vault.set('versions', 'pw', 'two');
    assert.notEqual(first.version, second.version);
    assert.equal((await vault.show('versions', 'pw'))?.value, 'two');
  });

  it('never stores a value in clear', async () => {
    const value = 'very-secret-value-1234567890';
    await vault.set('clearcheck', 'pw', value);
    const raw = rawValue('clearcheck', 'pw');
    assert.match(raw, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    for (const encoding of ['utf8', 'base64', 'base64url', 'hex'] as const) {
      assert.ok(!raw.includes(Buffer.from(value).toString(encoding)), `found the value (${encoding}) in ${raw}`);
    }
    // A random IV per value: the same value seals differently each time.
    await vault.set('clearcheck', 'pw2', value);
    assert.notEqual(rawValue('clearcheck', 'pw2').split('.')[3], raw.split('.')[3]);
  });

  it('resolves vault:// and key-vault URLs', async () => {
    const set = await vault.set('contoso-kv', 'git-token', 'ghp_abc');
    assert.equal(await vault.resolve('vault://contoso-kv/git-token'), 'ghp_abc');
    assert.equal(await vault.resolve('https://contoso-kv.vault.azure.net/secrets/git-token'), 'ghp_abc');
    assert.equal(await vault.resolve('https://Contoso-KV.vault.azure.net/secrets/git-token'), 'ghp_abc');
    assert.equal(await vault.resolve(`https://contoso-kv.vault.azure.net/secrets/git-token/${set.version}`), 'ghp_abc');
    assert.equal(await vault.resolve(set.id), 'ghp_abc');
  });

  it('answers SecretNotFoundError for a missing secret or an old version', async () => {
    const old = await vault.set('missingkv', 'pw', 'one');
    await vault.set('missingkv', 'pw', 'two');
    for (const reference of ['vault://missingkv/none', 'https://nokv.vault.azure.net/secrets/pw', old.id]) {
      await assert.rejects(vault.resolve(reference), (error: unknown) => error instanceof SecretNotFoundError && error.reference === reference);
    }
  });

  it('tells references from other values', () => {
    assert.equal(vault.isReference('vault://kv1/pw'), true);
    assert.equal(vault.isReference('https://kv1.vault.azure.net/secrets/pw'), true);
    assert.equal(vault.isReference('https://kv1.VAULT.azure.net/secrets/pw/abc'), true);
    assert.equal(vault.isReference('hunter2'), false);
    assert.equal(vault.isReference('https://example.com/secrets/pw'), false);
  });

  it('refuses malformed references and invalid names with clear errors', async () => {
    for (const reference of [
      'vault://kv1',
      'vault://kv1/a/b',
      'https://kv1.vault.azure.net/secrets/',
      'https://kv1.vault.azure.net/secrets/pw/v1/extra',
      'https://kv1.vault.azure.net/keys/pw',
      'https://kv1.vault.azure.net:8443/secrets/pw',
    ]) {
      await assert.rejects(vault.resolve(reference), (error: unknown) => error instanceof TaskError && error.kind === 'invalid' && /not a secret reference/.test(error.message), reference);
    }
    for (const name of ['ab', 'a'.repeat(25), '1vault', 'my--vault', 'vault-', 'my_vault', 'my.vault']) {
      await assert.rejects(vault.set(name, 'pw', 'x'), (error: unknown) => error instanceof TaskError && /invalid vault name .*3 to 24/.test(error.message), name);
    }
    for (const name of ['', 'a'.repeat(128), 'my_secret', 'a/b', 'pw.txt']) {
      await assert.rejects(vault.set('kv1', name, 'x'), (error: unknown) => error instanceof TaskError && /invalid secret name .*1 to 127/.test(error.message), name);
    }
    await assert.rejects(vault.resolve('vault://kv1/my_secret'), /invalid secret name/);
    assert.equal((await vault.set('abc', 'a'.repeat(127), 'x')).vault, 'abc');
    assert.equal((await vault.set('a'.repeat(24), '0-x', 'x')).name, '0-x');
  });

  it('seals and unseals task values, and detects tampering', () => {
    const sealed = vault.seal('token-123');
    assert.notEqual(sealed, vault.seal('token-123'));
    assert.equal(vault.unseal(sealed), 'token-123');
    const [version, iv, tag, ciphertext] = sealed.split('.') as [string, string, string, string];
    const flipped = Buffer.from(ciphertext, 'base64url');
    flipped[0]! ^= 1;
    for (const tampered of [
      [version, iv, tag, flipped.toString('base64url')].join('.'),
      [version, iv, Buffer.alloc(16).toString('base64url'), ciphertext].join('.'),
      [version, iv, tag.slice(0, 8), ciphertext].join('.'),
      [version, Buffer.alloc(12).toString('base64url'), tag, ciphertext].join('.'),
    ]) {
      assert.throws(() => vault.unseal(tampered), /could not be opened: it was altered/);
    }
    assert.throws(() => vault.unseal('v2.a.b.c'), /not a sealed value/);
    assert.throws(() => vault.unseal('plain text'), /not a sealed value/);
    const otherKey = new StoredSecretVault(meta.tasks, Buffer.alloc(32, 7));
    assert.throws(() => otherKey.unseal(sealed), /sealed with another key/);
  });

  it('refuses a stored value moved onto another secret', async () => {
    await vault.set('movekv', 'a', 'value-a');
    await vault.set('movekv', 'b', 'value-b');
    const db = new Database(dbFile);
    try {
      db.prepare("update secrets set value = ? where vault = 'movekv' and name = 'b'").run(rawValue('movekv', 'a'));
    } finally {
      db.close();
    }
    await assert.rejects(vault.resolve('vault://movekv/b'), /could not be opened/);
    assert.equal(await vault.resolve('vault://movekv/a'), 'value-a');
  });

  it('needs a 32-byte key', () => {
    assert.throws(() => new StoredSecretVault(meta.tasks, Buffer.alloc(16)), /32 bytes/);
  });
});
