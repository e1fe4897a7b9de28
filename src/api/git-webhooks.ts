/**
 * `POST /mgmt/v1/hooks/git/{registry}/{task}`: the commit trigger's webhook for GitHub, GitLab and
 * Gitea push events. Public (git hosts do not log in): the request must carry the task's webhook
 * secret instead (an HMAC signature of the raw body, or GitLab's token). A push of a new commit
 * to the task's branch queues one run for exactly that commit.
 *
 * Register it in its own plugin context: it reads every body as raw bytes for the signature.
 */
import type { FastifyInstance } from 'fastify';
import type { TaskStore } from '../meta/task-store.ts';
import type { TriggerStore } from '../meta/trigger-store.ts';
import type { SecretVault } from '../tasks/secrets/secret-vault.ts';
import { claimCommit, commitTriggerOf } from '../tasks/triggers/commit-trigger.ts';
import { readGitWebhook } from '../tasks/triggers/git-webhooks.ts';
import type { TriggeredRuns } from '../tasks/triggers/triggered-runs.ts';
import { sendProblem } from './problem.ts';
import { problemResponses } from './schemas.ts';

export interface GitWebhooksApiOptions {
  tasks: Pick<TaskStore, 'getTask'>;
  /** Unseals the task's webhook secret. */
  vault: Pick<SecretVault, 'unseal'>;
  triggers: Pick<TriggerStore, 'commitCursor' | 'advanceCommitCursor'>;
  runs: Pick<TriggeredRuns, 'queue'>;
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

export async function gitWebhooksApi(app: FastifyInstance, { tasks, vault, triggers, runs }: GitWebhooksApiOptions): Promise<void> {
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
      const { registry, task: name } = request.params;
      const task = await tasks.getTask(registry, name);
      const trigger = task && (await commitTriggerOf(task));
      if (!task || !trigger) return sendProblem(reply, 404, 'Not found', `no commit trigger ${registry}/${name}`);

      const result = readGitWebhook({
        headers: request.headers,
        body: request.body ?? Buffer.alloc(0),
        secret: vault.unseal(trigger.config.webhookSecret),
        branch: trigger.location.ref,
      });
      const where = { registry, task: name };
      switch (result.outcome) {
        case 'unauthorized':
          request.log.warn({ ...where, reason: result.reason }, 'git webhook rejected');
          return sendProblem(reply, 401, 'Authentication required', "the request does not carry the task's webhook secret");
        case 'invalid':
          return sendProblem(reply, 400, 'Invalid request', result.reason);
        case 'ignored':
          return reply.code(200).send({ status: 'ignored', reason: result.reason });
        case 'push':
          break;
      }
      if (!trigger.config.enabled || task.status === 'Disabled') {
        return sendProblem(reply, 409, 'Conflict', task.status === 'Disabled' ? 'the task is disabled' : "the task's commit trigger is disabled");
      }
      const { push } = result;
      if (!(await claimCommit(triggers, registry, name, push.commit))) {
        return reply.code(200).send({ status: 'ignored', reason: `commit ${push.commit} was already handled` });
      }
      const run = await runs.queue(registry, name, {
        trigger: 'Commit',
        details: { eventType: 'commit', commitId: push.commit, branchName: push.branch, repositoryUrl: trigger.location.display, providerType: push.provider },
      });
      if (!run) return sendProblem(reply, 409, 'Conflict', 'the task is disabled');
      request.log.info({ ...where, runId: run.runId, commit: push.commit, branch: push.branch, provider: push.provider, repositoryUrls: push.repositoryUrls }, 'git push queued a run');
      return reply.code(202).send({ runId: run.runId });
    },
  );
}
