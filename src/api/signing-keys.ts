/** `/mgmt/v1/signing-keys/rotate`: a new token signing key; the previous one still verifies during a grace period. */
import type { FastifyInstance } from 'fastify';
import type { TokenIssuer } from '../auth/services.ts';
import { problemResponses } from './schemas.ts';

export interface SigningKeysApiOptions {
  tokens: TokenIssuer;
  /** Grace period when the request names none: long enough for every outstanding refresh token. */
  defaultGraceSeconds: number;
}

export async function signingKeysApi(app: FastifyInstance, { tokens, defaultGraceSeconds }: SigningKeysApiOptions): Promise<void> {
  app.post<{ Body: { graceSeconds?: number } | undefined }>(
    '/signing-keys/rotate',
    {
      config: { access: { action: 'manage_installation' } },
      schema: {
        summary: 'Rotate the token signing key',
        tags: ['signing-keys'],
        body: { type: 'object', properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: 30 * 24 * 3600 } }, additionalProperties: false },
        response: {
          200: { type: 'object', properties: { kid: { type: 'string' }, previousKid: { type: ['string', 'null'] }, graceSeconds: { type: 'integer' } } },
          ...problemResponses,
        },
      },
    },
    async (request) => tokens.rotateSigningKey(request.body?.graceSeconds ?? defaultGraceSeconds),
  );
}
