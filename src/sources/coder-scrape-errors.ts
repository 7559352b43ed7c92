// Why a scrape of a Coder replica failed, in plain words with the next step: what the
// operator reads at 3 a.m. instead of a raw Node error. Never echoes a URL's credentials.

import { redactSecrets, redactUrl } from '../redact.js';

/** How far a scrape got: a timeout before connecting and one mid-body need different fixes. */
export interface ScrapeProgress {
  connected: boolean;
  answered: boolean;
}

/** A target URL fit for messages and logs: user info, should any be there, is masked whole. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '***';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return redactUrl(url);
  }
}

/** What a non-2xx status means for a coderd metrics endpoint, and where to look. */
export function describeStatus(status: number): string {
  if (status === 404) return 'not found (HTTP 404): wrong path, or not a coderd metrics endpoint (coderd serves them on CODER_PROMETHEUS_ADDRESS, port 2112 by default, not on its web port)';
  if (status === 401 || status === 403) {
    return `authentication required (HTTP ${status}): coderd's metrics endpoint has none, so something in front of it (an ingress, a proxy) asks for it; scrape the pod's metrics port directly`;
  }
  if (status >= 500) return `coderd's metrics handler failed (HTTP ${status}): look at coderd's logs (and at any proxy in front of it) for the error`;
  if (status >= 300 && status < 400) return `redirected (HTTP ${status}), and redirects are not followed: give the final URL in --coder.targets`;
  return `HTTP ${status}: the endpoint refused the request; check the URL in --coder.targets`;
}

/** Where the scrape was when --poll.timeout ran out says what to check. */
export function describeTimeout(timeoutMs: number, progress: ScrapeProgress, url: string): string {
  const within = `within ${timeoutMs} ms (--poll.timeout)`;
  if (!progress.connected) {
    return `no connection ${within}: packets to ${hostAndPort(url)} go unanswered; is the pod there, and does a NetworkPolicy or firewall let the monitor reach the port?`;
  }
  if (!progress.answered) return `connected, but no answer ${within}: coderd's metrics handler is stuck or overloaded; look at coderd's CPU and logs, or raise --poll.timeout`;
  return `the exposition did not finish ${within}: it is very large (many workspaces) or coderd sends it slowly; raise --poll.timeout`;
}

/** Node's socket, DNS and TLS errors in plain words, each with the next step. */
export function describeRequestError(error: unknown, url: string): string {
  const err = error as NodeJS.ErrnoException;
  const code = err.code ?? '';
  const { hostname, port } = hostParts(url);
  const loopback = hostname === 'localhost' || hostname.startsWith('127.') || hostname === '[::1]';
  switch (code) {
    case 'ECONNREFUSED':
      return loopback
        ? `connection refused (ECONNREFUSED): is coderd running in this pod with CODER_PROMETHEUS_ENABLE=true, and is ${port} the port of its CODER_PROMETHEUS_ADDRESS?`
        : `connection refused (ECONNREFUSED): is coderd running with CODER_PROMETHEUS_ENABLE=true, and does CODER_PROMETHEUS_ADDRESS listen on 0.0.0.0:${port} (its default 127.0.0.1 is unreachable from other pods)?`;
    case 'ENOTFOUND':
      return `the host name ${hostname} does not resolve (ENOTFOUND): check it in --coder.targets (a Service in another namespace needs name.namespace.svc)`;
    case 'EAI_AGAIN':
      return `the host name ${hostname} could not be resolved now (EAI_AGAIN, DNS did not answer): check the cluster DNS; the next poll tries again`;
    case 'ECONNRESET':
      return `the connection was reset (ECONNRESET) before a complete answer: coderd restarted, or something in between (a proxy, a mesh sidecar) closed it; the next poll tries again`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${hostname} (${code}): the pod is gone or the network path is blocked; check the address in --coder.targets`;
    case 'ETIMEDOUT':
      return `connecting to ${hostname}:${port} timed out (ETIMEDOUT): is the pod there, and does a NetworkPolicy or firewall let the monitor reach the port?`;
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `the endpoint does not speak TLS (${code}): coderd serves its metrics over plain HTTP; use http:// in --coder.targets`;
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return `the TLS certificate is not trusted (${code}): coderd serves its metrics over plain HTTP, so use http://, or give the proxy in front a certificate the system trusts (NODE_EXTRA_CA_CERTS)`;
  }
  if (code.startsWith('HPE_')) return `the answer is not HTTP (${code}): is ${hostname}:${port} coderd's metrics port (2112 by default)?`;
  if (code.startsWith('Z_')) return `the gzip body is corrupt (${code}): something between coderd and the monitor alters the response`;
  const message = redactSecrets(err.message ?? String(error), credentialsOf(url));
  return code && !message.includes(code) ? `${code} (${message})` : message;
}

function hostParts(url: string): { hostname: string; port: string } {
  try {
    const parsed = new URL(url);
    return { hostname: parsed.hostname, port: parsed.port || (parsed.protocol === 'https:' ? '443' : '80') };
  } catch {
    return { hostname: '(unparsable URL)', port: '' };
  }
}

function hostAndPort(url: string): string {
  const { hostname, port } = hostParts(url);
  return `${hostname}:${port}`;
}

function credentialsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    return [parsed.username, parsed.password, decodeURIComponentSafe(parsed.username), decodeURIComponentSafe(parsed.password)];
  } catch {
    return [];
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
