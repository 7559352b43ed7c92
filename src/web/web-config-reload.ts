// Keeps the web config current: the file and every certificate it names are checked for
// a change (mtime, size, inode: a Kubernetes Secret update swaps a symlink) once a second,
// and reloaded. A bad new version is logged and the last good one stays in force, so a
// typo never unlocks /metrics or takes the listener down.

import { stat } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { loadWebConfig, type WebConfig } from './web-config.js';

export const WEB_CONFIG_CHECK_INTERVAL_MS = 1000;

export class ReloadingWebConfig {
  private config: WebConfig;
  private fingerprint: string;
  private readonly listeners: ((config: WebConfig) => void)[] = [];
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  private lastError: string | null = null;

  private constructor(
    initial: WebConfig,
    fingerprint: string,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    this.config = initial;
    this.fingerprint = fingerprint;
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  /** Loads the file or throws WebConfigError: at startup a bad file is fatal, as in the toolkit. */
  static async start(file: string, logger: Logger, intervalMs = WEB_CONFIG_CHECK_INTERVAL_MS): Promise<ReloadingWebConfig> {
    const config = await loadWebConfig(file);
    return new ReloadingWebConfig(config, await fingerprintOf(config.files), logger, intervalMs);
  }

  get current(): WebConfig {
    return this.config;
  }

  /** Called with each new config once it is in force. */
  onChange(listener: (config: WebConfig) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Reloads when any file changed; exposed for tests that do not want to wait a tick. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const fingerprint = await fingerprintOf(this.config.files);
      if (fingerprint === this.fingerprint) return;
      let next: WebConfig;
      try {
        next = await loadWebConfig(this.config.file);
        if ((next.tls === null) !== (this.config.tls === null)) {
          throw new Error(`--web.config.file ${this.config.file}: tls_server_config was ${this.config.tls ? 'removed' : 'added'}; switching between HTTP and HTTPS needs a restart`);
        }
      } catch (error) {
        const message = (error as Error).message;
        if (message !== this.lastError) {
          this.lastError = message;
          this.logger.error({ file: this.config.file }, `${message}; keeping the previous web config`);
        }
        // Try again at the next tick only if something changes again.
        this.fingerprint = fingerprint;
        return;
      }
      this.config = next;
      this.fingerprint = await fingerprintOf(next.files);
      this.lastError = null;
      this.logger.info({ file: next.file, tls: next.tls !== null, users: next.basicAuthUsers.size }, 'web config reloaded');
      for (const listener of this.listeners) listener(next);
    } finally {
      this.checking = false;
    }
  }
}

async function fingerprintOf(files: string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      try {
        const info = await stat(file);
        return `${file}:${info.ino}:${info.size}:${info.mtimeMs}`;
      } catch {
        return `${file}:missing`;
      }
    }),
  );
  return parts.join('|');
}
