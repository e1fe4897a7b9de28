/**
 * Timer schedules: 5-field cron in UTC with NCrontab's semantics, errors that name the bad field,
 * occurrences in a window, and `--schedule "[name:]cron"` specs with default names t1, t2, ….
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { occurrencesBetween, parseSchedule, ScheduleError } from '../../../src/tasks/triggers/cron.ts';
import { timerFromSpec, timersFromSpecs } from '../../../src/tasks/triggers/timer-spec.ts';

const at = (iso: string) => new Date(iso);
const isoList = (dates: Date[]) => dates.map((date) => date.toISOString());

describe('parseSchedule', () => {
  test('every hour on the hour, in UTC, strictly after the given time', () => {
    const schedule = parseSchedule('0 * * * *');
    assert.equal(schedule.next(at('2024-05-01T12:00:00Z'))?.toISOString(), '2024-05-01T13:00:00.000Z');
    assert.equal(schedule.next(at('2024-05-01T11:59:59.999Z'))?.toISOString(), '2024-05-01T12:00:00.000Z');
    assert.equal(schedule.next(at('2024-05-01T12:30:00+02:00'))?.toISOString(), '2024-05-01T11:00:00.000Z');
  });

  test('names, ranges, lists and steps; fields separated by any whitespace are normalised', () => {
    const schedule = parseSchedule('  */15  9-10 * jan,feb mon-fri ');
    assert.equal(schedule.expression, '*/15 9-10 * jan,feb mon-fri');
    // 2024-01-06 is a Saturday: the next weekday is Monday the 8th.
    assert.deepEqual(isoList(occurrencesBetween(schedule, at('2024-01-05T10:50:00Z'), at('2024-01-08T09:30:00Z'))), [
      '2024-01-08T09:00:00.000Z',
      '2024-01-08T09:15:00.000Z',
      '2024-01-08T09:30:00.000Z',
    ]);
  });

  test('a day must match both day fields (NCrontab), not either (Vixie cron)', () => {
    const fridayThe13th = parseSchedule('0 0 13 * 5');
    assert.deepEqual(isoList(occurrencesBetween(fridayThe13th, at('2024-01-01T00:00:00Z'), at('2025-12-31T00:00:00Z'))), [
      '2024-09-13T00:00:00.000Z',
      '2024-12-13T00:00:00.000Z',
      '2025-06-13T00:00:00.000Z',
    ]);
  });

  test('a bad field is named in the error', () => {
    const cases: Array<[string, RegExp]> = [
      ['61 * * * *', /the minute field '61' does not parse/],
      ['* 24 * * *', /the hour field '24' does not parse/],
      ['* * 0 * *', /the day-of-month field '0' does not parse/],
      ['* * * 13 *', /the month field '13' does not parse/],
      ['* * * * funday', /the day-of-week field 'funday' does not parse/],
      ['*/0 * * * *', /the minute field '\*\/0' does not parse/],
      ['0 * * *', /has 5 fields .* this one has 4/],
      ['0 0 * * * *', /this one has 6/],
      ['@hourly', /this one has 1/],
      ['', /this one has 0/],
      ['0 0 30 2 *', /never fires/],
    ];
    for (const [expression, message] of cases) {
      assert.throws(() => parseSchedule(expression), (error: unknown) => error instanceof ScheduleError && message.test(error.message), expression);
    }
  });
});

describe('occurrencesBetween', () => {
  test('occurrences in (from, to], bounded by the limit', () => {
    const everyMinute = parseSchedule('* * * * *');
    assert.deepEqual(isoList(occurrencesBetween(everyMinute, at('2024-05-01T12:00:00Z'), at('2024-05-01T12:02:00Z'))), [
      '2024-05-01T12:01:00.000Z',
      '2024-05-01T12:02:00.000Z',
    ]);
    assert.deepEqual(occurrencesBetween(everyMinute, at('2024-05-01T12:00:00Z'), at('2024-05-01T12:00:59Z')), []);
    assert.equal(occurrencesBetween(everyMinute, at('2024-05-01T00:00:00Z'), at('2024-05-02T00:00:00Z'), 10).length, 10);
  });
});

describe('timer specs (--schedule "[name:]cron")', () => {
  test('an optional name prefix; default names t1, t2, … skip names in use', () => {
    assert.deepEqual(timerFromSpec('0 * * * *', []), { name: 't1', schedule: '0 * * * *' });
    assert.deepEqual(timerFromSpec('nightly:0  2 * * *', []), { name: 'nightly', schedule: '0 2 * * *' });
    assert.deepEqual(timersFromSpecs(['0 * * * *', 'weekly:0 0 * * 0', '*/5 * * * *'], [{ name: 't1', schedule: '30 * * * *' }]), [
      { name: 't2', schedule: '0 * * * *' },
      { name: 'weekly', schedule: '0 0 * * 0' },
      { name: 't3', schedule: '*/5 * * * *' },
    ]);
    assert.deepEqual(timerFromSpec('0 * * * *', [], 'hourly'), { name: 'hourly', schedule: '0 * * * *' });
  });

  test('clashing names, repeated schedules, bad names and bad expressions are refused', () => {
    const existing = [{ name: 'hourly', schedule: '0 * * * *' }];
    assert.throws(() => timerFromSpec('hourly:30 * * * *', existing), /already has a timer named 'hourly'/);
    assert.throws(() => timerFromSpec('other:0  *  * * *', existing), /timer 'hourly' already has the schedule '0 \* \* \* \*'/);
    assert.throws(() => timerFromSpec('bad name:0 * * * *', []), /invalid timer name 'bad name'/);
    assert.throws(() => timerFromSpec('a:0 * * * *', [], 'b'), /names timer 'a' but the timer name given is 'b'/);
    assert.throws(() => timerFromSpec('nightly:0 25 * * *', []), /the hour field '25' does not parse/);
    assert.throws(() => timersFromSpecs(['0 * * * *', '0 * * * *']), /timer 't1' already has the schedule/);
  });
});
