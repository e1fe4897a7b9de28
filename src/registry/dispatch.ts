/** Matches a `/v2/` URL against the route table and validates the path's name and last segment. */
import { parseDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { assertRepositoryName } from '../oci/names.ts';
import { isSessionId } from '../services/uploads.ts';
import type { PathParams } from './context.ts';
import { pathShapes, registryRoutes, type Method, type RegistryRoute } from './routes.ts';

interface CompiledShape {
  pattern: RegExp;
  hasName: boolean;
  validateRef: (ref: string) => void;
  routes: Map<string, RegistryRoute>;
}


const refValidators = {
  none: () => {},
  digest: (ref: string) => void parseDigest(ref),
  reference: () => {},
  upload: (ref: string) => {
    if (!isSessionId(ref)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${ref} is not known to this repository`);
  },
} as const;

const compiled: CompiledShape[] = Object.entries(pathShapes).map(([path, shape]) => ({
  pattern: shape.pattern,
  hasName: shape.hasName,
  validateRef: refValidators[shape.ref],
  routes: new Map(registryRoutes.filter((route) => route.path === path).map((route) => [route.method, route])),
}));

export interface MatchedRoute {
  route: RegistryRoute;
  params: PathParams;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RegistryError('NAME_INVALID', 'malformed percent-encoding in the path');
  }
}

export function matchRoute(method: string, path: string): MatchedRoute {
  for (const shape of compiled) {
    const match = shape.pattern.exec(path);
    if (!match) continue;
    const route = shape.routes.get(method as Method);
    if (!route) throw new RegistryError('UNSUPPORTED', `${method} is not supported on this endpoint`);
    const name = shape.hasName ? decode(match[1] ?? '') : '';
    if (shape.hasName) assertRepositoryName(name);
    const ref = match[2] === undefined ? '' : decode(match[2]);
    shape.validateRef(ref);
    return { route, params: { name, ref } };
  }
  throw new RegistryError('NAME_UNKNOWN', `no endpoint matches ${path}`, { status: 404 });
}
