// The scheduler: a first poll at once, then node-cron's schedule. Polls never overlap:
// a tick that arrives while a poll runs is skipped (a slow PostgreSQL must not pile up
// statements on the one connection). stop() waits for the running poll, bounded.

import { createTask } from 'node-cron';
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
      return running;
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

  const task = createTask(expression, () => run(), { noOverlap: true, name: 'poll' });
  void task.start();
  void run();

  return {
    async stop(graceMs) {
      await task.destroy();
      if (running) await Promise.race([running, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    },
  };
}
