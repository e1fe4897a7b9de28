/** Request and response schemas of the token endpoints: validation, and their OpenAPI description. */

const errorBody = {
  type: 'object',
  properties: {
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { code: { type: 'string' }, message: { type: 'string' }, detail: {} },
      },
    },
  },
} as const;

const tokenResponse = {
  type: 'object',
  description: 'An access token (both `token` and `access_token`, as clients read either), and a refresh token when asked for.',
  properties: {
    token: { type: 'string' },
    access_token: { type: 'string' },
    expires_in: { type: 'integer', description: 'seconds' },
    issued_at: { type: 'string', format: 'date-time' },
    refresh_token: { type: 'string' },
  },
  required: ['token', 'access_token', 'expires_in', 'issued_at'],
} as const;

const scope = {
  type: 'array',
  items: { type: 'string', maxLength: 1024 },
  maxItems: 64,
  description: '`repository:<name>:<actions>`, `repository(<class>):<name>:<actions>` or `registry:catalog:*`; repeated or space-separated',
} as const;

const service = { type: 'string', maxLength: 300, description: 'login server of the registry, e.g. contoso.localhost:5000' } as const;

const grantForm = {
  type: 'object',
  properties: {
    grant_type: { type: 'string', enum: ['password', 'refresh_token'] },
    service,
    scope,
    access_type: { type: 'string', description: '`offline` also returns a refresh token (password grant)' },
    client_id: { type: 'string', description: 'ignored' },
    username: { type: 'string', maxLength: 256 },
    password: { type: 'string', maxLength: 4096 },
    refresh_token: { type: 'string', maxLength: 8192 },
  },
  required: ['grant_type'],
} as const;

const errors = { 400: errorBody, 401: errorBody, 429: errorBody } as const;

export const tokenSchemas = {
  getToken: {
    summary: 'Get an access token with Basic credentials (docker, skopeo, buildah, podman)',
    tags: ['oauth2'],
    querystring: {
      type: 'object',
      properties: {
        service,
        scope,
        offline_token: { type: 'string', enum: ['true', 'false'] },
        account: { type: 'string' },
        client_id: { type: 'string' },
      },
    },
    response: { 200: tokenResponse, ...errors },
  },
  postToken: {
    summary: 'Get an access token for a password or refresh token grant (docker login)',
    tags: ['oauth2'],
    consumes: ['application/x-www-form-urlencoded'],
    body: grantForm,
    response: { 200: tokenResponse, ...errors },
  },
  exchange: {
    summary: 'Exchange a user or service principal credential, or a refresh token, for a registry refresh token',
    tags: ['oauth2'],
    consumes: ['application/x-www-form-urlencoded'],
    body: grantForm,
    response: {
      200: { type: 'object', properties: { refresh_token: { type: 'string' } }, required: ['refresh_token'] },
      ...errors,
    },
  },
} as const;
