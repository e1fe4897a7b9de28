/**
 * Timer triggers: every few seconds, each enabled timer of each enabled task fires once for every
 * occurrence of its schedule since the previous check. The trigger store's claim makes each
 * (task, timer, minute) fire once, however many nodes run a scheduler on the same store and
 * however often a process restarts. A process starts checking at the beginning of the current
 * minute: a restart catches that minute's occurrence (if no node fired it yet) but never replays
 * older minutes.
 */
import type { TriggerStore } from '../../meta/trigger-store.ts';
import { occurrencesBetween, parseSchedule, type Schedule } from './cron.ts';
import { triggersOf } from './trigger-config.ts';
import type { TriggeredRuns } from './triggered-runs.ts';

export interface TimerSchedulerLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface TimerSchedulerOptions {
  store: Pick<TriggerStore, 'claimTimerOccurrence'>;
  runs: TriggeredRuns;
  logger?: TimerSchedulerLogger;
  /** How often to check; default 5000 ms. */
  intervalMs?: number;
  /** The clock (tests drive it). */
  now?: () => Date;
}

/** Most occurrences one timer fires in one check (a check window of hours after a stalled process). */
const MAX_OCCURRENCES_PER_CHECK = 60;

/** `2024-05-01T12:00:00Z`: the occurrence's minute, as the trigger store and the run record keep it. */
export function occurrenceMinute(occurrence: Date): string {
  return `${occurrence.toISOString().slice(0, 16)}:00Z`;
}

export class TimerScheduler {
  readonly #options: TimerSchedulerOptions;
  readonly #now: () => Date;
  readonly #schedules = new Map<string, Schedule | Error>();
  /** The end of the window already checked; undefined until the first check. */
  #checkedUntil: Date | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;

  constructor(options: TimerSchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Checks now and then every `intervalMs` until `stop()`. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops checking; resolves once a check in progress has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One check: queues a run for each occurrence due since the last check; returns how many it queued. */
  async tick(): Promise<number> {
    const now = this.#now();
    const from = this.#checkedUntil ?? startOfMinuteBefore(now);
    if (now.getTime() <= from.getTime()) {
      // The clock went back: start again from here rather than replay.
      this.#checkedUntil = now;
      return 0;
    }
    // A check that fails part-way is retried over the same window (claims keep it to once).
    this.#checkedUntil = from;
    let queued = 0;
    for (const task of await this.#options.runs.allTasks()) {
      if (task.status !== 'Enabled') continue;
      for (const timer of triggersOf(task).timers) {
        if (!timer.enabled) continue;
        const schedule = this.#parsed(timer.schedule, task.registry, task.name, timer.name);
        if (!schedule) continue;
        for (const occurrence of occurrencesBetween(schedule, from, now, MAX_OCCURRENCES_PER_CHECK)) {
          if (await this.#fire(task.registry, task.name, timer.name, occurrenceMinute(occurrence))) queued++;
        }
      }
    }
    this.#checkedUntil = now;
    return queued;
  }

  async #fire(registry: string, task: string, timer: string, occurrence: string): Promise<boolean> {
    const { store, runs, logger } = this.#options;
    try {
      if (!(await store.claimTimerOccurrence(registry, task, timer, occurrence))) return false;
      const run = await runs.queue(registry, task, { trigger: 'Timer', details: { timerTriggerName: timer, scheduleOccurrence: occurrence } });
      if (run) logger?.info({ registry, task, timer, occurrence, runId: run.runId }, 'timer trigger queued a run');
      return run !== undefined;
    } catch (error) {
      logger?.error({ err: error, registry, task, timer, occurrence }, 'timer trigger failed to queue a run');
      return false;
    }
  }

  /** The timer's schedule; a stored expression that does not parse is logged once and skipped. */
  #parsed(expression: string, registry: string, task: string, timer: string): Schedule | undefined {
    let schedule = this.#schedules.get(expression);
    if (schedule === undefined) {
      try {
        schedule = parseSchedule(expression);
      } catch (error) {
        schedule = error as Error;
        this.#options.logger?.warn({ registry, task, timer, schedule: expression, err: error }, 'timer schedule does not parse; the timer never fires');
      }
      this.#schedules.set(expression, schedule);
    }
    return schedule instanceof Error ? undefined : schedule;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      const check = this.tick().catch((error: unknown) => this.#options.logger?.error({ err: error }, 'timer trigger check failed'));
      this.#running = check;
      void check.then(() => {
        if (!this.#stopped) this.#schedule(this.#options.intervalMs ?? 5000);
      });
    }, delayMs);
    this.#timer.unref();
  }
}

/** Just before the start of `now`'s minute, so that minute's own occurrence is still due. */
function startOfMinuteBefore(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 60_000) * 60_000 - 1);
}
