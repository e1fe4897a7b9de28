/**
 * `berth mirror`: creating, listing, showing and deleting mirrors, their history, and rollback.
 * Creating one checks everything it can up front (source, target, validation, schedule,
 * credentials) and then asks the watcher for a first check, so the upstream tag's current digest
 * goes through the gate within seconds.
 */
import type { Principal } from '../auth/principal.ts';
import { RegistryNotFoundError } from '../meta/meta-store.ts';
import type { SecretVault } from '../tasks/secrets/secret-vault.ts';
import { SecretNotFoundError } from '../tasks/secrets/secret-vault.ts';
import { parseSchedule, ScheduleError } from '../tasks/triggers/cron.ts';
import { MirrorError } from './mirror-error.ts';
import { parseMirrorSource, parseTargetImage, stagingRepositoryOf, type SourceResolution } from './mirror-source.ts';
import { MirrorExistsError, type MirrorRecord, type MirrorStore, type MirrorValidation, type NewMirror } from './mirror-store.ts';
import type { MirrorTarget } from './mirror-target.ts';
import { historyView, mirrorView, type MirrorHistoryView, type MirrorView } from './mirror-views.ts';

export interface MirrorInput {
  name: string;
  /** `<registry-name>/<repo>:<tag>` or `<login-server>/<repo>:<tag>`. */
  source: string;
  /** The target `<repo>:<tag>`. */
  image: string;
  /** `"<image> <args>"`, templates allowed. */
  validateCmd?: string;
  /** A task file's text. */
  validateTaskFile?: string;
  keepUniqueTags?: number;
  schedule?: string;
  pollIntervalSeconds?: number;
  /** Clear text or a secret URI. */
  sourceUsername?: string;
  sourcePassword?: string;
}

export interface MirrorServiceOptions {
  store: MirrorStore;
  target: Pick<MirrorTarget, 'rollback'>;
  /** Asked for a first check of each new mirror. */
  watcher: { check(mirror: { registry: string; name: string }): void };
  resolution: SourceResolution;
  vault: Pick<SecretVault, 'isReference' | 'resolve' | 'seal'>;
  loginServer(registry: string): string;
  defaultPollSeconds: number;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$/;
const MAX_TASK_FILE_BYTES = 1024 * 1024;
/** The longest unique-tag suffix (`-yyyyMMddHHmmss`), so `<tag>-<suffix>` stays a valid tag. */
const UNIQUE_SUFFIX_LENGTH = 15;

const invalid = (message: string) => new MirrorError('invalid', message);

export class MirrorService {
  readonly #options: MirrorServiceOptions;

  constructor(options: MirrorServiceOptions) {
    this.#options = options;
  }

  /** Checks a creation request; what it reads and writes can then be authorized before `create`. */
  async prepare(registry: string, input: MirrorInput, caller: Principal): Promise<NewMirror> {
    const { resolution } = this.#options;
    if (!(await resolution.registryExists(registry))) throw new MirrorError('not-found', `registry ${registry} not found`);
    if (!namePattern.test(input.name)) throw invalid(`invalid mirror name "${input.name}": use 1 to 50 letters, digits, hyphens or underscores, starting with a letter or digit`);
    const source = await parseMirrorSource(input.source, resolution);
    const { repository, tag } = parseTargetImage(input.image);
    if (tag.length + UNIQUE_SUFFIX_LENGTH > 128) throw invalid(`--image "${input.image}": the tag is too long to add a unique suffix to (at most ${128 - UNIQUE_SUFFIX_LENGTH} characters)`);
    if (source.registry === registry && source.repository === repository && source.tag === tag) throw invalid('the source and the target are the same tag');
    if (repository.startsWith('staging/')) throw invalid(`--image "${input.image}": staging/ holds the images waiting for validation; choose another repository`);
    const external = source.registry === null;
    if (!external) {
      for (const [flag, given] of [['--schedule', input.schedule], ['--poll-interval', input.pollIntervalSeconds], ['--source-username', input.sourceUsername], ['--source-password', input.sourcePassword]] as const) {
        if (given !== undefined) throw invalid(`${flag} applies to external sources only: a source in this installation is watched through its events`);
      }
    }
    if (input.schedule !== undefined && input.pollIntervalSeconds !== undefined) throw invalid('give --schedule or --poll-interval, not both');
    let schedule: string | null = null;
    if (input.schedule !== undefined) {
      try {
        schedule = parseSchedule(input.schedule).expression;
      } catch (error) {
        if (error instanceof ScheduleError) throw invalid(error.message);
        throw error;
      }
    }
    if (input.pollIntervalSeconds !== undefined && (!Number.isInteger(input.pollIntervalSeconds) || input.pollIntervalSeconds < 1)) throw invalid('--poll-interval must be a whole number of seconds, at least 1');
    if (input.keepUniqueTags !== undefined && (!Number.isInteger(input.keepUniqueTags) || input.keepUniqueTags < 1)) throw invalid('--keep-unique-tags must be a whole number, at least 1');
    if ((input.sourceUsername === undefined) !== (input.sourcePassword === undefined)) throw invalid('give both --source-username and --source-password, or neither');
    return {
      registry,
      name: input.name,
      sourceText: input.source.trim(),
      source,
      repository,
      tag,
      validation: validationOf(input),
      keepUniqueTags: input.keepUniqueTags ?? null,
      schedule,
      pollIntervalSeconds: input.pollIntervalSeconds ?? null,
      sourceUsername: input.sourceUsername !== undefined ? await this.#checkedSecret(input.sourceUsername, '--source-username') : null,
      sourcePassword: input.sourcePassword !== undefined ? await this.#sealed(input.sourcePassword) : null,
      creator: caller,
    };
  }

  async create(mirror: NewMirror): Promise<MirrorView> {
    let created: MirrorRecord;
    try {
      created = await this.#options.store.createMirror(mirror);
    } catch (error) {
      if (error instanceof MirrorExistsError) throw new MirrorError('conflict', error.message);
      if (error instanceof RegistryNotFoundError) throw new MirrorError('not-found', `registry ${error.registry} not found`);
      throw error;
    }
    this.#options.watcher.check(created);
    return this.#view(created);
  }

  async list(registry: string): Promise<MirrorView[]> {
    await this.#registry(registry);
    return (await this.#options.store.listMirrors(registry)).map((mirror) => this.#view(mirror));
  }

  async get(registry: string, name: string): Promise<MirrorView> {
    return this.#view(await this.#mirror(registry, name));
  }

  /** Removes the mirror and its history; the images it staged and promoted stay. */
  async delete(registry: string, name: string): Promise<void> {
    await this.#mirror(registry, name);
    if (!(await this.#options.store.deleteMirror(registry, name))) throw new MirrorError('not-found', `mirror ${name} not found in registry ${registry}`);
  }

  async history(registry: string, name: string, top?: number): Promise<MirrorHistoryView[]> {
    await this.#mirror(registry, name);
    return (await this.#options.store.history(registry, name, top)).map(historyView);
  }

  /** Moves the target tag back to the previously promoted digest, or to `to` (a digest or unique tag it promoted). */
  async rollback(registry: string, name: string, to?: string): Promise<MirrorHistoryView> {
    const mirror = await this.#mirror(registry, name);
    return historyView(await this.#options.target.rollback(mirror, to));
  }

  /** The repositories a mirror writes: the target and its staging repository. */
  static writtenRepositories(mirror: Pick<NewMirror, 'repository'>): string[] {
    return [mirror.repository, stagingRepositoryOf(mirror.repository)];
  }

  async #registry(registry: string): Promise<void> {
    if (!(await this.#options.resolution.registryExists(registry))) throw new MirrorError('not-found', `registry ${registry} not found`);
  }

  async #mirror(registry: string, name: string): Promise<MirrorRecord> {
    await this.#registry(registry);
    const mirror = await this.#options.store.getMirror(registry, name);
    if (!mirror) throw new MirrorError('not-found', `mirror ${name} not found in registry ${registry}`);
    return mirror;
  }

  #view(mirror: MirrorRecord): MirrorView {
    return mirrorView(mirror, this.#options.loginServer, this.#options.defaultPollSeconds);
  }

  /** A secret URI must name an existing secret; clear text is kept as it is. */
  async #checkedSecret(value: string, flag: string): Promise<string> {
    const { vault } = this.#options;
    if (!vault.isReference(value)) return value;
    try {
      await vault.resolve(value);
    } catch (error) {
      if (error instanceof SecretNotFoundError) throw invalid(`${flag}: ${error.message}`);
      throw error;
    }
    return value;
  }

  /** Secret URIs are kept (resolved at each use); a clear password is sealed. */
  async #sealed(password: string): Promise<string> {
    const { vault } = this.#options;
    if (vault.isReference(password)) return await this.#checkedSecret(password, '--source-password');
    return vault.seal(password);
  }
}

function validationOf(input: MirrorInput): MirrorValidation {
  if (input.validateCmd !== undefined && input.validateTaskFile !== undefined) throw invalid('give --validate-file or --validate-cmd, not both');
  if (input.validateCmd !== undefined) {
    if (input.validateCmd.trim() === '') throw invalid('--validate-cmd needs an image, e.g. --validate-cmd "{{.Values.STAGED_IMAGE}} ./test.sh"');
    return { type: 'Cmd', cmd: input.validateCmd };
  }
  if (input.validateTaskFile !== undefined) {
    if (input.validateTaskFile.trim() === '') throw invalid('--validate-file: the task file is empty');
    if (Buffer.byteLength(input.validateTaskFile) > MAX_TASK_FILE_BYTES) throw invalid('--validate-file: larger than 1 MiB');
    return { type: 'TaskFile', content: input.validateTaskFile };
  }
  return { type: 'None' };
}
