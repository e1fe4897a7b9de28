/** Context archives for tests: real ones packed from a folder, and hand-made ones with hostile entries. */
import { mkdtemp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Header, create, type types } from 'tar';

/** A folder with the given files (`/`-separated paths) and symbolic links (path → target). */
export async function makeFolder(files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-context-src-'));
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  for (const [name, target] of Object.entries(links)) {
    await symlink(target, path.join(root, name));
  }
  return root;
}

/** A gzip'd tar of a folder's content, as `berth build` uploads it. */
export function packFolder(folder: string): Readable {
  return Readable.from(create({ gzip: true, cwd: folder, portable: true }, ['.']));
}

export interface RawEntry {
  path: string;
  type?: types.EntryTypeName;
  body?: string | Buffer;
  linkpath?: string;
}

/** A gzip'd tar written block by block, so that it can hold entries no packer would write. */
export function rawTarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const header = new Header({
      path: entry.path,
      type: entry.type ?? 'File',
      size: body.length,
      mode: entry.type === 'Directory' ? 0o755 : 0o644,
      uid: 0,
      gid: 0,
      mtime: new Date(0),
      ...(entry.linkpath === undefined ? {} : { linkpath: entry.linkpath }),
    });
    header.encode();
    if (header.block === undefined) throw new Error(`cannot encode a header for ${entry.path}`);
    blocks.push(header.block);
    if (body.length > 0) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
