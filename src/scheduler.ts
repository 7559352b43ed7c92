// The scheduler: a first poll at once, then node-cron's schedule. Polls never overlap:
// a tick that arrives while a poll runs is skipped (a slow PostgreSQL must not pile up
// statements on the one connection). stop() waits for the running poll, bounded.

import { createTask, type Logger as CronLogger } from 'node-cron';
import type { Logger } from './log.js';

export interface Schedule {
  /** Stops ticking and waits for a running poll, at most `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

export function startSchedule(expression: string, poll: () => Promise<unknown>, logger: Logger): Schedule {
  let running: Promise<void> | null = null;

  const run = () => {
    if (running) {
      logger.debug('poll skipped: the previous poll is still running');
      return undefined;
    }
    running = poll()
      .then(() => undefined)
      .catch((error: unknown) => {
        // Sources return failures as data; reaching here is a programming error.
        logger.error({ err: error }, 'poll failed unexpectedly');
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  // Not node-cron's noOverlap: it would print its own unformatted warning to stderr at
  // every blocked tick; run() above is the one guard, and it logs through pino at debug.
  const task = createTask(expression, () => run(), { name: 'poll', logger: cronLogger(logger) });
  // Handling the event also silences node-cron's own "missed execution" console warning.
  task.on('execution:missed', (context) => {
    logger.warn(
      { scheduled: context.date.toISOString() },
      'a scheduled poll was missed: the process was blocked or starved of CPU (check the container CPU limit and throttling); polling goes on at the next tick',
    );
  });
  void task.start();
  void run();

  return {
    async stop(graceMs) {
      await task.destroy();
      if (running) await Promise.race([running, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    },
  };
}

/** node-cron's own messages as JSON log lines, instead of its coloured console output. */
function cronLogger(logger: Logger): CronLogger {
  const log = logger.child({ component: 'node-cron' });
  const withError = (level: 'error' | 'debug') => (message: string | Error, err?: Error) =>
    message instanceof Error ? log[level]({ err: message }, message.message) : log[level](err ? { err } : {}, message);
  return {
    info: (message) => log.info(message),
    warn: (message) => log.warn(message),
    error: withError('error'),
    debug: withError('debug'),
  };
}
