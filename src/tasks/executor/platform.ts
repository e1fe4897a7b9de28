import { Copy, DockerfileParser, From, Run } from 'dockerfile-ast';

const OCI_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386' };

/** This machine's platform in OCI terms, e.g. `linux/amd64`. */
export function hostPlatform(): string {
  return `linux/${OCI_ARCH[process.arch] ?? process.arch}`;
}

/**
 * `os/arch` of a platform string, for comparing platforms: architecture aliases resolved and the
 * variants that say nothing new (`arm64/v8`, `amd64/v1`) dropped; `arm/v7` keeps its variant.
 */
export function normalizePlatform(platform: string): string {
  const [os = '', arch = '', variant] = platform.toLowerCase().split('/');
  const canonicalArch = ARCH_ALIASES[arch] ?? arch;
  const keepVariant = variant !== undefined && !(canonicalArch === 'arm64' && variant === 'v8') && !(canonicalArch === 'amd64' && variant === 'v1');
  return keepVariant ? `${os}/${canonicalArch}/${variant}` : `${os}/${canonicalArch}`;
}

interface Stage {
  name: string | undefined;
  base: string;
  platformFlag: string | undefined;
  copiesFrom: string[];
  hasRun: boolean;
}

/**
 * Whether building `target` (default: the last stage) of a Dockerfile executes a `RUN` on the
 * target platform. Stages the build does not need are ignored, and so are stages pinned to the
 * build platform (`FROM --platform=$BUILDPLATFORM ...`), which run natively.
 */
export function runsOnTargetPlatform(dockerfile: string, target: string | undefined, host: string): boolean {
  const stages = parseStages(dockerfile);
  const indexOf = (reference: string): number | undefined => {
    const lower = reference.toLowerCase();
    const byName = stages.findIndex((stage) => stage.name === lower);
    if (byName >= 0) return byName;
    return /^\d+$/.test(reference) && Number(reference) < stages.length ? Number(reference) : undefined;
  };

  const runsNatively = (index: number, seen: Set<number>): boolean => {
    const stage = stages[index]!;
    if (stage.platformFlag !== undefined) return isBuildPlatform(stage.platformFlag, host);
    const parent = indexOf(stage.base);
    return parent !== undefined && parent < index && !seen.has(parent) && runsNatively(parent, new Set(seen).add(index));
  };

  const last = stages.length - 1;
  const start = target === undefined ? last : indexOf(target);
  if (start === undefined || start < 0) return stages.some((stage) => stage.hasRun);

  const needed = new Set<number>();
  const pending = [start];
  while (pending.length > 0) {
    const index = pending.pop()!;
    if (needed.has(index)) continue;
    needed.add(index);
    const stage = stages[index]!;
    for (const reference of [stage.base, ...stage.copiesFrom]) {
      const dependency = indexOf(reference);
      if (dependency !== undefined && dependency !== index) pending.push(dependency);
    }
  }
  return [...needed].some((index) => stages[index]!.hasRun && !runsNatively(index, new Set()));
}

function isBuildPlatform(flag: string, host: string): boolean {
  if (/^\$\{?BUILDPLATFORM\}?$/.test(flag.trim())) return true;
  return normalizePlatform(flag) === normalizePlatform(host);
}

function parseStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction instanceof From) {
      stages.push({
        name: instruction.getBuildStage()?.toLowerCase(),
        base: instruction.getImageName() ?? '',
        platformFlag: instruction.getPlatformFlag()?.getValue() ?? undefined,
        copiesFrom: [],
        hasRun: false,
      });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) continue;
    if (instruction instanceof Run) stage.hasRun = true;
    const copiedFrom = instruction instanceof Copy ? instruction.getFromFlag()?.getValue() : undefined;
    if (copiedFrom) stage.copiesFrom.push(copiedFrom);
  }
  return stages;
}
