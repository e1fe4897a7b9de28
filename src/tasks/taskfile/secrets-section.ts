import type { TaskSecretReference } from '../model.ts';
import type { MapFields, YamlContext } from './yaml-fields.ts';

const SECRET_PROPERTIES = ['id', 'keyvault', 'clientID'] as const;
const SECRET_URI = /^(vault:\/\/[^/\s]+\/[^/\s]+|https:\/\/[^./\s]+\.vault\.azure\.net\/secrets\/[^/\s]+(\/[^/\s]+)?)\/?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The top-level `secrets` list: ids unique and without spaces, each naming a secret URI. */
export function readSecrets(ctx: YamlContext, fields: MapFields): TaskSecretReference[] {
  const secrets: TaskSecretReference[] = [];
  const firstLine = new Map<string, number>();
  for (const { value: node, line } of fields.maps('secrets') ?? []) {
    const secret = ctx.fields(node, SECRET_PROPERTIES, line);
    const id = secret.string('id');
    const keyvault = secret.string('keyvault');
    const clientID = secret.string('clientID');
    if (!id) ctx.issues.error(line, "a secret needs an 'id'");
    else if (/\s/.test(id)) ctx.issues.error(secret.keyLine('id'), `secret id '${id}' cannot contain spaces`);
    else if (firstLine.has(id)) ctx.issues.error(secret.keyLine('id'), `duplicate secret id '${id}' (first on line ${firstLine.get(id)})`);
    else firstLine.set(id, secret.keyLine('id'));
    if (!keyvault) ctx.issues.error(line, `secret '${id ?? ''}' needs a 'keyvault' secret URI`);
    else if (!SECRET_URI.test(keyvault.trim())) {
      ctx.issues.error(secret.keyLine('keyvault'), `'keyvault' must be vault://<vault>/<name> or https://<vault>.vault.azure.net/secrets/<name>[/<version>]`);
    }
    if (clientID && !GUID.test(clientID)) ctx.issues.error(secret.keyLine('clientID'), "'clientID' must be a GUID");
    if (id && keyvault) secrets.push(clientID ? { id, keyvault: keyvault.trim(), clientID } : { id, keyvault: keyvault.trim() });
  }
  return secrets;
}
