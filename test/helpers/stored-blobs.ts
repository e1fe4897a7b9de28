/**
 * Every blob whose bytes an installation on the embedded default holds, sorted: the files of its
 * blob store and the small blobs kept in its SQLite metadata database (services/inline-blobs.ts).
 * Reads the data directory directly, so it works while the server runs and after it was killed.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';

export async function storedBlobs(dataDir: string): Promise<string[]> {
  const digests: string[] = [];
  const root = path.join(dataDir, 'storage', 'blobs', 'sha256');
  for (const prefix of await readdir(root).catch(() => [])) {
    for (const name of await readdir(path.join(root, prefix))) digests.push(`sha256:${name}`);
  }
  const db = new Database(path.join(dataDir, 'berth.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('select digest from blobs where content is not null').all() as { digest: string }[];
    for (const row of rows) digests.push(row.digest);
  } finally {
    db.close();
  }
  return digests.sort();
}
