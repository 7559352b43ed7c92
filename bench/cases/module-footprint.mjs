// Case 6, where the memory goes: the resident memory each library the daemon is built on
// adds to a bare Node process, each alone (shared code is counted in each), and the whole
// daemon's modules together. The libraries stay (the brief: prom-client, pg, express,
// pino, node-cron, zod); this says what each costs. Libraries only one mode needs
// (@aws-sdk/rds-signer for IAM, yaml and bcryptjs for --web.config.file, marked for
// /runbooks) are loaded only when that mode is used, so a daemon without them pays nothing.

import { fileURLToPath } from 'node:url';
import { daemonNodeFlags } from '../node-flags.mjs';
import { runNodeJson } from '../processes.mjs';
import { median } from '../stats.mjs';

const worker = fileURLToPath(new URL('../module-rss-worker.mjs', import.meta.url));
const daemon = new URL('../../dist/daemon.js', import.meta.url).href;
/** pg as the daemon loads it: after node-navigator.ts, so that pg's Cloudflare check does not load undici. */
const pgAsTheDaemonLoadsIt = new URL('../../dist/sources/persistent-client.js', import.meta.url).href;

/** [what, specifier, when the daemon loads it] */
export const MODULES = [
  ['pg', pgAsTheDaemonLoadsIt, 'always; as the daemon loads it'],
  ['pg imported bare', 'pg', 'never: on Node 20 its Cloudflare check loads undici'],
  ['prom-client', 'prom-client', 'always'],
  ['express', 'express', 'always'],
  ['pino', 'pino', 'always'],
  ['node-cron', 'node-cron', 'always'],
  ['node-cron with a task started', new URL('../node-cron-running.mjs', import.meta.url).href, 'always: it reads each date through Intl.DateTimeFormat, which maps ICU data'],
  ['zod', 'zod', 'always'],
  ['@aws-sdk/rds-signer', '@aws-sdk/rds-signer', 'only with --postgres.auth awsiamrds'],
  ['yaml', 'yaml', 'only with --web.config.file'],
  ['bcryptjs', 'bcryptjs', 'only with --web.config.file'],
  ['marked', 'marked', 'only when /runbooks is asked for'],
];

async function rssWith(specifier, runs) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push((await runNodeJson(worker, [specifier], { nodeArgs: daemonNodeFlags() })).rss);
  return median(samples);
}

export async function measureModuleFootprint({ runs }) {
  const bare = await rssWith('', runs);
  const rows = [];
  for (const [name, specifier, when] of MODULES) {
    const rss = await rssWith(specifier, runs);
    rows.push({ figure: `RSS added by ${name} (${when})`, unit: 'MB', ours: (rss - bare) / 1e6, reference: bare / 1e6, referenceName: 'bare Node' });
  }
  const all = await rssWith(daemon, runs);
  rows.push({ figure: "RSS added by the daemon's modules together (dist/daemon.js)", unit: 'MB', ours: (all - bare) / 1e6, reference: bare / 1e6, referenceName: 'bare Node' });
  return { rows, bare, all };
}
