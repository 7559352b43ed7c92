// `serve`: the daemon until SIGTERM or SIGINT, then a clean stop within 2 s (Kubernetes'
// grace period is longer; a quick exit keeps rollouts fast).

import type { Config } from '../config/parse-config.js';
import { startDaemon, type Daemon } from '../daemon.js';
import type { Logger } from '../log.js';

/** Resolves with the exit code once a signal has stopped the daemon. */
export function untilSignalled(daemon: Daemon, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'stopping');
      const forced = setTimeout(() => resolve(0), 1900);
      forced.unref();
      daemon.stop(1200).then(
        () => {
          clearTimeout(forced);
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          resolve(0);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export async function runServe(config: Config, logger: Logger): Promise<number> {
  let daemon: Daemon;
  try {
    daemon = await startDaemon(config, { logger });
  } catch (error) {
    logger.fatal((error as Error).message);
    return 1;
  }
  return untilSignalled(daemon, logger);
}
