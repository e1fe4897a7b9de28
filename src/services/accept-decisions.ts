/**
 * `acceptsMediaType` remembered per `Accept` header and media type: clients send the same few
 * headers on every pull, and parsing one costs more than looking the answer up. Bounded: headers
 * past a few hundred, or long ones, are decided afresh each time.
 */
import { acceptsMediaType } from '../oci/manifest.ts';

const maxHeaders = 256;
const maxHeaderLength = 1024;
const maxMediaTypesPerHeader = 32;

export class AcceptDecisions {
  readonly #byHeader = new Map<string, Map<string, boolean>>();

  accepts(accept: string | string[] | undefined, mediaType: string): boolean {
    if (typeof accept !== 'string' || accept.length > maxHeaderLength) return acceptsMediaType(accept, mediaType);
    let byType = this.#byHeader.get(accept);
    if (byType === undefined) {
      if (this.#byHeader.size >= maxHeaders) this.#byHeader.clear();
      byType = new Map();
      this.#byHeader.set(accept, byType);
    }
    let decision = byType.get(mediaType);
    if (decision === undefined) {
      decision = acceptsMediaType(accept, mediaType);
      if (byType.size < maxMediaTypesPerHeader) byType.set(mediaType, decision);
    }
    return decision;
  }
}
