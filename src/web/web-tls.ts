// HTTPS for the web listener from the web config's tls_server_config. Node's TLS server
// knows "request a certificate" and "reject unverified ones"; Go's five client_auth_type
// policies map onto those two switches, and what they cannot say (a certificate required
// but not verified, a verified one only if given, allowed SANs) is checked as soon as the
// handshake completes, before any request is read.

import { createServer, type Server } from 'node:https';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { RequestListener } from 'node:http';
import type { Logger } from '../log.js';
import { HTTP_LIMITS } from './hardening.js';
import type { ReloadingWebConfig } from './web-config-reload.js';
import type { WebTlsConfig } from './web-config.js';

function secureOptions(tls: WebTlsConfig): TlsOptions {
  return {
    cert: tls.cert,
    key: tls.key,
    ca: tls.clientCa ?? undefined,
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    ciphers: tls.ciphers ?? undefined,
    ecdhCurve: tls.ecdhCurve ?? undefined,
    honorCipherOrder: tls.honorCipherOrder,
  };
}

/** The two switches Node has, per policy. */
function clientCertificateSwitches(tls: WebTlsConfig): { requestCert: boolean; rejectUnauthorized: boolean } {
  switch (tls.clientAuth) {
    case 'NoClientCert':
      return { requestCert: false, rejectUnauthorized: false };
    case 'RequireAndVerifyClientCert':
      // OpenSSL refuses the handshake itself: no certificate, or one the client CA did not sign.
      return { requestCert: true, rejectUnauthorized: true };
    default:
      return { requestCert: true, rejectUnauthorized: false };
  }
}

/** Why this connection breaks the policy, or null when it keeps it. */
export function clientCertificateViolation(socket: TLSSocket, tls: WebTlsConfig): string | null {
  const certificate = socket.getPeerCertificate();
  const presented = certificate !== null && Object.keys(certificate).length > 0;
  if (!presented) {
    return tls.clientAuth === 'RequireAnyClientCert' || tls.clientAuth === 'RequireAndVerifyClientCert' ? 'no client certificate' : null;
  }
  if ((tls.clientAuth === 'VerifyClientCertIfGiven' || tls.clientAuth === 'RequireAndVerifyClientCert') && !socket.authorized) {
    return `client certificate not verified (${String(socket.authorizationError)})`;
  }
  if (tls.clientAllowedSans) {
    // "DNS:a, IP Address:10.0.0.1, email:x@y, URI:spiffe://..." -> the values.
    const sans = (certificate.subjectaltname ?? '').split(', ').map((entry) => entry.slice(entry.indexOf(':') + 1));
    if (!sans.some((san) => tls.clientAllowedSans?.includes(san))) return 'client certificate has none of client_allowed_sans';
  }
  return null;
}

/** An HTTPS server that follows the reloading config: new certificates and policies apply to new connections. */
export function createHttpsServer(app: RequestListener, webConfig: ReloadingWebConfig, logger: Logger, serverOptions: { maxHeaderSize: number; connectionsCheckingInterval: number }): Server {
  const initial = webConfig.current.tls as WebTlsConfig;
  const server = createServer(
    // Node waits 120 s for a TLS handshake by default: as long as for the headers, no longer.
    { ...secureOptions(initial), ...clientCertificateSwitches(initial), ...serverOptions, handshakeTimeout: HTTP_LIMITS.headersTimeoutMs },
    app,
  );
  webConfig.onChange((config) => {
    if (!config.tls) return;
    server.setSecureContext(secureOptions(config.tls));
    // Read by Node for every new connection (tlsConnectionListener).
    Object.assign(server, clientCertificateSwitches(config.tls));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const tls = webConfig.current.tls;
    const violation = tls && clientCertificateViolation(socket, tls);
    if (violation) {
      logger.debug({ remote: socket.remoteAddress, reason: violation }, 'TLS connection refused by client_auth_type');
      socket.destroy();
    }
  });
  server.on('tlsClientError', (error: Error & { code?: string }, socket) => {
    logger.debug({ remote: socket.remoteAddress, code: error.code }, `TLS handshake failed: ${error.message}`);
  });
  return server;
}
