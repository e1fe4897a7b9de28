/**
 * A Dockerfile build (`berth build`, or a task with a Dockerfile step) as a task file: one build
 * step and, unless `noPush`, one push step of every image name — `az acr build`'s behaviour.
 */
import type { ContainerStepOptions, TaskFile, TaskStep } from '../model.ts';
import { qualifyImageName } from './image-names.ts';

export interface QuickBuildSpec {
  dockerfile: string;
  /** Image names, templates already rendered. */
  imageNames: string[];
  buildArgs: Array<[string, string]>;
  target?: string;
  noPush: boolean;
  noCache: boolean;
  /** The run's own login server: image names without a registry go there. */
  loginServer: string;
  timeoutSeconds: number;
}

export const containerStepDefaults: ContainerStepOptions = {
  detach: false,
  ports: [],
  expose: [],
  keep: false,
  privileged: false,
  pull: false,
  disableWorkingDirectoryOverride: false,
  repeat: 0,
  retries: 0,
  retryDelaySeconds: 0,
  volumeMounts: [],
};

export function quickBuildTaskFile(spec: QuickBuildSpec): TaskFile {
  const tags = spec.imageNames.map((name) => qualifyImageName(name, spec.loginServer));
  const common = { line: 0, env: [], ignoreErrors: false, startDelaySeconds: 0, timeoutSeconds: spec.timeoutSeconds };
  const steps: TaskStep[] = [
    {
      ...common,
      ...containerStepDefaults,
      id: 'build',
      dependsOn: [],
      kind: 'build',
      build: {
        tags,
        dockerfile: spec.dockerfile,
        buildArgs: spec.buildArgs,
        ...(spec.target !== undefined ? { target: spec.target } : {}),
        noCache: spec.noCache,
        pull: false,
        labels: [],
        context: '.',
      },
    },
  ];
  if (!spec.noPush && tags.length > 0) steps.push({ ...common, id: 'push', dependsOn: ['build'], kind: 'push', push: tags });
  return {
    version: 'v1.1.0',
    stepTimeoutSeconds: spec.timeoutSeconds,
    workingDirectory: '/workspace',
    env: [],
    secrets: [],
    volumes: [],
    networks: [],
    steps,
    warnings: [],
  };
}
