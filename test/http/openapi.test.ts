import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acrRoutes } from '../../src/api/acr/routes.ts';
import { documentedPrefixes } from '../../src/api/openapi.ts';
import { startTestBerth, type TestBerth } from '../helper.ts';

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { summary?: string; security?: unknown[]; responses?: Record<string, unknown> }>>;
}

/** `/registries/:registry/tokens/:name` → `/registries/{registry}/tokens/{name}`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

describe('GET /mgmt/v1/openapi.json: the API document stays in sync with the routes', () => {
  let server: TestBerth;
  let document: OpenApiDocument;

  before(async () => {
    server = await startTestBerth();
    const response = await server.request('/mgmt/v1/openapi.json', { auth: 'none' });
    assert.equal(response.status, 200, 'served without credentials');
    document = (await response.json()) as OpenApiDocument;
  });
  after(() => server.close());

  it('is an OpenAPI 3.1 document of Berth', () => {
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.info.title, 'Berth');
  });

  it('documents every registered /mgmt/v1, /acr/v1 and /oauth2 route', () => {
    const registered = server.berth.routes.filter(
      (route) => !route.hidden && route.method !== 'HEAD' && documentedPrefixes.some((prefix) => route.url.startsWith(prefix)),
    );
    assert.ok(registered.length >= 30, `only ${registered.length} routes registered`);
    for (const route of registered) {
      const operation = document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      assert.ok(operation, `${route.method} ${route.url} is missing from the OpenAPI document`);
      assert.ok(operation.summary, `${route.method} ${route.url} has no summary`);
      assert.ok(operation.responses && Object.keys(operation.responses).length > 0, `${route.method} ${route.url} has no responses`);
    }
    for (const route of acrRoutes) assert.ok(document.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path} is missing`);
    for (const path of ['/oauth2/token', '/oauth2/exchange', '/mgmt/v1/registries/{registry}/tokens/{name}/credentials/generate']) {
      assert.ok(document.paths[path], path);
    }
  });

  it('documents nothing that is not served, and hides the Distribution API', () => {
    const served = new Set(server.berth.routes.filter((route) => !route.hidden).map((route) => `${route.method.toLowerCase()} ${openApiPath(route.url)}`));
    for (const route of acrRoutes) served.add(`${route.method.toLowerCase()} ${route.path}`);
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const method of Object.keys(operations)) assert.ok(served.has(`${method} ${path}`), `${method} ${path} is documented but not served`);
    }
    assert.ok(!Object.keys(document.paths).some((path) => path.startsWith('/v2')));
  });

  it('marks the public routes as needing no credentials', () => {
    assert.deepEqual(document.paths['/mgmt/v1/openapi.json']?.get?.security, []);
    assert.equal(document.paths['/mgmt/v1/users']?.get?.security, undefined, 'the document-wide Basic/Bearer security applies');
  });
});
