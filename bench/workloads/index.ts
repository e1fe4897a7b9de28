/** Every workload, in the order they run and are reported. */
import { authWorkload } from './auth.ts';
import { gcWorkload } from './gc.ts';
import { importWorkload } from './import.ts';
import { manifestsWorkload } from './manifests.ts';
import { parallelPullWorkload } from './parallel-pull.ts';
import { pullWorkload } from './pull.ts';
import { purgeWorkload } from './purge.ts';
import { pushWorkload } from './push.ts';
import { smallImagesWorkload } from './small-images.ts';
import { tagsWorkload } from './tags.ts';
import { tasksWorkload } from './tasks.ts';
import { triggersWorkload } from './triggers.ts';
import type { Workload } from './workload.ts';

export const workloads: readonly Workload[] = [
  pushWorkload,
  pullWorkload,
  parallelPullWorkload,
  manifestsWorkload,
  smallImagesWorkload,
  tagsWorkload,
  authWorkload,
  importWorkload,
  gcWorkload,
  purgeWorkload,
  tasksWorkload,
  triggersWorkload,
];
