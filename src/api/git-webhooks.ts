/**
 * `POST /mgmt/v1/hooks/git/{registry}/{task}`: the commit trigger's webhook for GitHub, GitLab and
 * Gitea push events. Public (git hosts do not log in): the request must carry the task's webhook
 * secret instead (an HMAC signature of the raw body, or GitLab's token). A push of a new commit
 * to the task's branch queues one run for exactly that commit.
 *
 * Register it in its own plugin context: it reads every body as raw bytes for the signature.
 */
import type { FastifyInstance } from 'fastify';
import type { GitWebhookReceiver } from '../tasks/triggers/git-webhook-receiver.ts';
import { sendProblem } from './problem.ts';
import { problemResponses } from './schemas.ts';

export interface GitWebhooksApiOptions {
  receiver: GitWebhookReceiver;
}

/** The webhook URL's path for a task, as `berth task` shows it (under the server's base URL). */
export function gitWebhookPath(registry: string, task: string): string {
  return `/mgmt/v1/hooks/git/${encodeURIComponent(registry)}/${encodeURIComponent(task)}`;
}

/** Push events with many commits are large; GitHub sends at most 25 MB. */
const BODY_LIMIT_BYTES = 25 * 1024 * 1024;

const string = { type: 'string' } as const;
/** Any name: a malformed one is just an unknown task (404). */
const params = {
  type: 'object',
  properties: { registry: { type: 'string', maxLength: 100 }, task: { type: 'string', maxLength: 100 } },
  required: ['registry', 'task'],
} as const;

type Params = { registry: string; task: string };

export async function gitWebhooksApi(app: FastifyInstance, { receiver }: GitWebhooksApiOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post<{ Params: Params; Body: Buffer | undefined }>(
    '/hooks/git/:registry/:task',
    {
      config: { access: 'public' },
      bodyLimit: BODY_LIMIT_BYTES,
      schema: {
        summary: "Git push webhook (GitHub, GitLab, Gitea) of a task's commit trigger",
        description:
          "Authenticated by the task's webhook secret: GitHub's X-Hub-Signature-256, Gitea's X-Gitea-Signature " +
          "(HMAC-SHA256 of the body) or GitLab's X-Gitlab-Token. A push of a new commit to the task's branch queues a run (202); " +
          'pings, other events and branches, and commits already handled are acknowledged without one (200).',
        tags: ['tasks'],
        params,
        response: {
          200: { type: 'object', properties: { status: { type: 'string', enum: ['ignored'] }, reason: string } },
          202: { type: 'object', properties: { runId: string } },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { registry, task } = request.params;
      const result = await receiver.receive(registry, task, request.headers, request.body ?? Buffer.alloc(0));
      switch (result.outcome) {
        case 'not-found':
          return sendProblem(reply, 404, 'Not found', `no commit trigger ${registry}/${task}`);
        case 'unauthorized':
          request.log.warn({ registry, task, reason: result.reason }, 'git webhook rejected');
          return sendProblem(reply, 401, 'Authentication required', "the request does not carry the task's webhook secret");
        case 'invalid':
          return sendProblem(reply, 400, 'Invalid request', result.reason);
        case 'ignored':
          return reply.code(200).send({ status: 'ignored', reason: result.reason });
        case 'disabled':
          return sendProblem(reply, 409, 'Conflict', result.reason);
        case 'queued': {
          const { push } = result;
          request.log.info({ registry, task, runId: result.runId, commit: push.commit, branch: push.branch, provider: push.provider, repositoryUrls: push.repositoryUrls }, 'git push queued a run');
          return reply.code(202).send({ runId: result.runId });
        }
      }
    },
  );
}
