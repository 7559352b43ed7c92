// The exporter-toolkit web config (TLS, client certificates, basic auth, headers), loaded
// only when --web.config.file is given: its modules (yaml, bcryptjs, node:https) added
// about 12 MB to the RSS of every daemon that does not use them (measured importing each).

import type { RequestHandler } from 'express';
import type { Logger } from '../log.js';
import type { SecureServerFactory } from './server.js';

export interface ProtectedWeb {
  /** Rate limit, headers and basic auth, before every route. */
  guard: RequestHandler;
  /** Serves HTTPS when the config has tls_server_config; undefined for plain HTTP. */
  secure: SecureServerFactory | undefined;
  scheme: 'http' | 'https';
  /** Stops watching the file. */
  close(): void;
}

/** Reads the file once (a config that cannot be used stops the start) and watches it for changes. */
export async function loadProtectedWeb(file: string, logger: Logger): Promise<ProtectedWeb> {
  const [{ ReloadingWebConfig }, { webConfigGuard }, { createHttpsServer }] = await Promise.all([
    import('./web-config-reload.js'),
    import('./web-auth.js'),
    import('./web-tls.js'),
  ]);
  const webConfig = await ReloadingWebConfig.start(file, logger);
  const tls = webConfig.current.tls !== null;
  return {
    guard: webConfigGuard(() => webConfig.current),
    secure: tls ? (handler, limits) => createHttpsServer(handler, webConfig, logger, limits) : undefined,
    scheme: tls ? 'https' : 'http',
    close: () => webConfig.close(),
  };
}
