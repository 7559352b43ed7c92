// postgres_exporter, what an operator would run instead: Debian's
// prometheus-postgres-exporter, installed through scripts/ensure-debian-packages.sh when
// missing, started on a free loopback port against the benchmark's PostgreSQL.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, spawnTracked, stopChild, waitForHttp } from './processes.mjs';

const PACKAGE = 'prometheus-postgres-exporter';
const ensureScript = fileURLToPath(new URL('../scripts/ensure-debian-packages.sh', import.meta.url));
const CANDIDATES = ['/usr/bin/prometheus-postgres-exporter', '/usr/sbin/prometheus-postgres-exporter'];

/** The binary's path; installs the package when missing (as root), else fails naming it. */
export function ensurePostgresExporter() {
  const result = spawnSync('bash', [ensureScript, PACKAGE], { encoding: 'utf8', timeout: 15 * 60_000 });
  const binary = CANDIDATES.find((path) => existsSync(path));
  if (result.status !== 0 || !binary) {
    throw new Error(
      `postgres_exporter is needed for the side-by-side figures: install Debian's ${PACKAGE} ` +
        `(apt-get install -y --no-install-recommends ${PACKAGE}). ensure-debian-packages.sh said: ` +
        `${(result.stderr || result.stdout || String(result.error ?? '')).trim()}`,
    );
  }
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const line = `${version.stdout}${version.stderr}`.split('\n').find((l) => /version/.test(l)) ?? 'unknown version';
  return { binary, version: line.replace(/^postgres_exporter,\s*/, '').trim() };
}

/**
 * Starts the exporter with its defaults (what an operator gets out of the box) against
 * `dataSourceName`; resolves once /metrics answers.
 */
export async function startPostgresExporter(binary, dataSourceName) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const child = spawnTracked(binary, [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      env: { PATH: process.env.PATH, DATA_SOURCE_NAME: dataSourceName },
    });
    try {
      await waitForHttp(url, { child, what: 'postgres_exporter', timeoutMs: 20_000 });
      return { url, pid: child.pid, stop: () => stopChild(child) };
    } catch (error) {
      await stopChild(child);
      // Another process may have taken the port between the probe and the bind.
      if (attempt >= 3 || !/address already in use/i.test(String(error.message))) throw error;
    }
  }
}
