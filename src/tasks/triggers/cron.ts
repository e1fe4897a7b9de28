/**
 * Timer schedules: 5-field cron expressions (`minute hour day-of-month month day-of-week`) read in
 * UTC, as ACR's timer triggers (NCrontab) read them — no seconds or year field, at most one
 * occurrence a minute, and a day must match both the day-of-month and the day-of-week field.
 */
import { Cron, type CronOptions } from 'croner';

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export interface Schedule {
  /** The expression, its fields separated by single spaces. */
  readonly expression: string;
  /** The first occurrence strictly after `after`; null if the schedule never fires again. */
  next(after: Date): Date | null;
}

const fields = [
  { name: 'minute', allowed: '0-59' },
  { name: 'hour', allowed: '0-23' },
  { name: 'day-of-month', allowed: '1-31' },
  { name: 'month', allowed: '1-12 or jan-dec' },
  { name: 'day-of-week', allowed: '0-7 or sun-sat, 0 and 7 being Sunday' },
] as const;

// NCrontab matches a day only when both day fields do (Vixie cron would take either).
const cronOptions: CronOptions = { mode: '5-part', timezone: 'Etc/UTC', domAndDow: true };

function compile(expression: string): Cron {
  return new Cron(expression, cronOptions);
}

/** Parses a 5-field cron expression; a `ScheduleError` names the field that does not parse. */
export function parseSchedule(text: string): Schedule {
  const tokens = text.trim().split(/\s+/).filter((token) => token !== '');
  if (tokens.length !== fields.length) {
    throw new ScheduleError(
      `invalid schedule '${text}': a cron expression has 5 fields (minute hour day-of-month month day-of-week, in UTC), this one has ${tokens.length}`,
    );
  }
  // Each field alone among wildcards, so the error names the one at fault.
  tokens.forEach((token, index) => {
    const probe = fields.map((_, other) => (other === index ? token : '*')).join(' ');
    try {
      compile(probe);
    } catch {
      const field = fields[index]!;
      throw new ScheduleError(`invalid schedule '${text}': the ${field.name} field '${token}' does not parse (allowed: ${field.allowed}, lists, ranges and */steps)`);
    }
  });
  const expression = tokens.join(' ');
  let cron: Cron;
  try {
    cron = compile(expression);
  } catch (error) {
    throw new ScheduleError(`invalid schedule '${text}': ${(error as Error).message}`);
  }
  if (cron.nextRun(new Date()) === null) throw new ScheduleError(`invalid schedule '${text}': it never fires (no such date)`);
  return { expression, next: (after) => cron.nextRun(after) };
}

/** The schedule's occurrences in (`from`, `to`], oldest first, at most `limit` of them. */
export function occurrencesBetween(schedule: Schedule, from: Date, to: Date, limit = 1000): Date[] {
  const occurrences: Date[] = [];
  let cursor = from;
  while (occurrences.length < limit) {
    const next = schedule.next(cursor);
    if (next === null || next.getTime() > to.getTime()) break;
    occurrences.push(next);
    cursor = next;
  }
  return occurrences;
}
