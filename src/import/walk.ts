/**
 * Reads an image from a source before anything is written: the top manifest, every manifest an
 * index lists (children before their index), and the set of blobs they reference. Every manifest
 * is validated here, so the writes that follow cannot fail on a bad document halfway through.
 */
import { RegistryError } from '../oci/errors.ts';
import { parseManifest, type ParsedManifest } from '../oci/manifest.ts';
import { ImportError, type FetchedManifest, type SourceReader } from './source-reader.ts';

/** As ACR: an imported image has at most 50 manifests (an index and its platform images). */
export const MAX_MANIFESTS = 50;
/** An index of indexes is allowed; deeper nesting is refused. */
const MAX_DEPTH = 3;

export interface WalkedManifest extends FetchedManifest {
  parsed: ParsedManifest;
  /** For messages: `linux/arm64 image sha256:...` or `index sha256:...`. */
  label: string;
}

export interface WalkedBlob {
  digest: string;
  size: number;
  /** The first manifest referencing it, for messages. */
  of: string;
}

export interface ImageWalk {
  /** The manifest the source reference names. */
  top: WalkedManifest;
  /** Every other manifest, each before any index that lists it. */
  children: WalkedManifest[];
  /** Distinct blobs of every image manifest, in first-seen order. */
  blobs: WalkedBlob[];
}

export async function walkImage(reader: SourceReader, reference: string): Promise<ImageWalk> {
  const seen = new Map<string, WalkedManifest>();
  const ordered: WalkedManifest[] = [];
  const blobs = new Map<string, WalkedBlob>();

  const visit = async (ref: string, label: (manifest: ParsedManifest, digest: string) => string, depth: number): Promise<WalkedManifest> => {
    const fetched = await reader.manifest(ref);
    const existing = seen.get(fetched.digest);
    if (existing) return existing;
    if (seen.size >= MAX_MANIFESTS) throw new ImportError(`the source image has more than ${MAX_MANIFESTS} manifests; import fewer platforms`);
    const parsed = parseFetched(fetched);
    const walked: WalkedManifest = { ...fetched, parsed, label: label(parsed, fetched.digest) };
    seen.set(walked.digest, walked);
    if (parsed.kind === 'index') {
      if (depth >= MAX_DEPTH) throw new ImportError(`${walked.label} nests indexes more than ${MAX_DEPTH} deep`);
      for (const child of parsed.manifests) {
        const childLabel = (manifest: ParsedManifest, digest: string) => describe(manifest, digest, child.platform);
        const childWalked = await visit(child.digest, childLabel, depth + 1);
        if (childWalked.content.length !== child.size) {
          throw new ImportError(`${walked.label} gives ${childWalked.label} a size of ${child.size} bytes, but it has ${childWalked.content.length}`);
        }
      }
    }
    for (const blob of parsed.blobs) {
      const known = blobs.get(blob.digest);
      if (known && known.size !== blob.size) throw new ImportError(`blob ${blob.digest} has two different sizes in the source (${known.size} and ${blob.size} bytes)`);
      if (!known) blobs.set(blob.digest, { digest: blob.digest, size: blob.size, of: walked.label });
    }
    ordered.push(walked);
    return walked;
  };

  const top = await visit(reference, (manifest, digest) => describe(manifest, digest, undefined), 0);
  return { top, children: ordered.filter((manifest) => manifest !== top), blobs: [...blobs.values()] };
}

function parseFetched(fetched: FetchedManifest): ParsedManifest {
  try {
    return parseManifest(fetched.content, fetched.mediaType);
  } catch (error) {
    if (error instanceof RegistryError) throw new ImportError(`the source manifest ${fetched.digest} cannot be imported: ${error.message}`);
    throw error;
  }
}

function describe(manifest: ParsedManifest, digest: string, platform: { os: string; architecture: string; variant?: string } | undefined): string {
  if (manifest.kind === 'index') return `index ${digest}`;
  if (!platform) return `image ${digest}`;
  return `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''} image ${digest}`;
}
