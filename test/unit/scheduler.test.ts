// The schedule as node-cron runs it, on fake timers: what node-cron has to say reaches the
// JSON log through pino, and nothing is printed to the console around it.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { startSchedule, type Schedule } from '../../src/scheduler.js';
import { captureLogs } from '../support/logs.js';

let schedule: Schedule | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await schedule?.stop(0);
  schedule = undefined;
  vi.restoreAllMocks();
});

/** Spies on every console method; node-cron's default logger prints through them. */
function watchConsole() {
  return (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => vi.spyOn(console, method).mockImplementation(() => undefined));
}

describe('the poll schedule', () => {
  it('logs ticks missed while the process was blocked as JSON warnings, and prints nothing to the console', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const printed = watchConsole();
    const logs = captureLogs();
    schedule = startSchedule('* * * * * *', async () => undefined, logs.logger);
    // The clock jumps 5 s while no timer runs: a blocked event loop, as node-cron sees it.
    vi.setSystemTime(Date.now() + 5000);
    await vi.advanceTimersToNextTimerAsync();

    const missed = logs.entries().filter((e) => e.msg.startsWith('a scheduled poll was missed'));
    expect(missed.length).toBeGreaterThanOrEqual(1);
    for (const entry of missed) {
      expect(entry).toMatchObject({ level: 40, msg: expect.stringContaining('blocked or starved of CPU'), scheduled: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    }
    for (const spy of printed) expect(spy).not.toHaveBeenCalled();
  });

  it('skips ticks during a slow poll with a debug line, not a warning', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const printed = watchConsole();
    const logs = captureLogs();
    schedule = startSchedule('* * * * * *', () => new Promise(() => undefined), logs.logger);
    for (let tick = 0; tick < 3; tick++) await vi.advanceTimersByTimeAsync(1000);

    expect(logs.entries().filter((e) => e.msg === 'poll skipped: the previous poll is still running').length).toBeGreaterThanOrEqual(2);
    expect(logs.entries().filter((e) => e.level >= 40)).toEqual([]);
    for (const spy of printed) expect(spy).not.toHaveBeenCalled();
  });
});
