/** Docker-style image references as task steps write them. */

export interface ImageParts {
  /** Registry host (`contoso.localhost:5000`), or undefined for a short name (Docker Hub). */
  registry: string | undefined;
  repository: string;
  tag: string | null;
  digest: string | null;
}

/** Whether the first path component names a registry host (has a dot or port, or is `localhost`). */
function isRegistryHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

export function parseImageName(reference: string): ImageParts {
  let rest = reference;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const registry = slash >= 0 && isRegistryHost(first) ? first : undefined;
  if (registry !== undefined) rest = rest.slice(slash + 1);
  const colon = rest.lastIndexOf(':');
  const tag = colon >= 0 && !rest.slice(colon).includes('/') ? rest.slice(colon + 1) : null;
  const repository = tag === null ? rest : rest.slice(0, colon);
  return { registry, repository, tag, digest };
}

/** `az acr build` semantics: an image name without a registry goes to the run's own registry. */
export function qualifyImageName(reference: string, loginServer: string): string {
  return parseImageName(reference).registry === undefined ? `${loginServer}/${reference}` : reference;
}
