/**
 * Timer triggers as the CLI gives them: `--schedule "[name:]cron"` (repeatable on `task create`
 * and `task update`) and `task timer add --timer-name N --schedule "cron"`. A timer without a
 * name gets the first free of `t1`, `t2`, …; a task's timers differ in name and in schedule.
 */
import { parseSchedule, ScheduleError } from './cron.ts';
import type { TimerTriggerConfig } from './trigger-config.ts';

export interface TimerSpec {
  name: string;
  /** The cron expression, normalised (single spaces). */
  schedule: string;
}

const TIMER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$/;

/** Checks a timer name: letters, digits, `-` and `_`, starting with a letter or digit, at most 50 characters. */
export function checkTimerName(name: string): string {
  if (!TIMER_NAME.test(name)) {
    throw new ScheduleError(`invalid timer name '${name}': use 1-50 letters, digits, '-' or '_', starting with a letter or digit`);
  }
  return name;
}

/** The first of `t1`, `t2`, … that none of `taken` uses. */
export function defaultTimerName(taken: ReadonlySet<string>): string {
  for (let index = 1; ; index++) {
    const name = `t${index}`;
    if (!taken.has(name)) return name;
  }
}

/**
 * A timer to add to a task that has `existing` timers: `spec` is `[name:]cron` (cron fields hold no
 * `:`, so the first one ends the name). Throws `ScheduleError` for a bad name or expression, a name
 * already used, or a schedule another timer already has. `explicitName` is `--timer-name`; to
 * update a timer, pass the task's other timers as `existing`.
 */
export function timerFromSpec(spec: string, existing: ReadonlyArray<Pick<TimerTriggerConfig, 'name' | 'schedule'>>, explicitName?: string): TimerSpec {
  const colon = spec.indexOf(':');
  const prefix = colon >= 0 ? spec.slice(0, colon).trim() : undefined;
  const expression = colon >= 0 ? spec.slice(colon + 1) : spec;
  if (prefix !== undefined && explicitName !== undefined && prefix !== explicitName) {
    throw new ScheduleError(`the schedule '${spec}' names timer '${prefix}' but the timer name given is '${explicitName}'`);
  }
  const schedule = parseSchedule(expression).expression;
  const taken = new Set(existing.map((timer) => timer.name));
  const named = explicitName ?? prefix;
  const name = named !== undefined ? checkTimerName(named) : defaultTimerName(taken);
  if (taken.has(name)) throw new ScheduleError(`the task already has a timer named '${name}'`);
  const same = existing.find((timer) => sameSchedule(timer.schedule, schedule));
  if (same) throw new ScheduleError(`timer '${same.name}' already has the schedule '${schedule}'; a task's timers need different schedules`);
  return { name, schedule };
}

/** Timers for `--schedule` given several times, added to `existing` in order. */
export function timersFromSpecs(specs: readonly string[], existing: ReadonlyArray<Pick<TimerTriggerConfig, 'name' | 'schedule'>> = []): TimerSpec[] {
  const added: TimerSpec[] = [];
  for (const spec of specs) added.push(timerFromSpec(spec, [...existing, ...added]));
  return added;
}

function sameSchedule(left: string, right: string): boolean {
  return left.trim().split(/\s+/).join(' ') === right;
}
