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

export const MODULES = [
  ['pg', 'always'],
  ['prom-client', 'always'],
  ['express', 'always'],
  ['pino', 'always'],
  ['node-cron', 'always'],
  ['zod', 'always'],
  ['@aws-sdk/rds-signer', 'only with --postgres.auth awsiamrds'],
  ['yaml', 'only with --web.config.file'],
  ['bcryptjs', 'only with --web.config.file'],
  ['marked', 'only when /runbooks is asked for'],
];

async function rssWith(specifier, runs) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push((await runNodeJson(worker, [specifier], { nodeArgs: daemonNodeFlags() })).rss);
  return median(samples);
}

export async function measureModuleFootprint({ runs }) {
  const bare = await rssWith('', runs);
  const rows = [];
  for (const [name, when] of MODULES) {
    const rss = await rssWith(name, runs);
    rows.push({ figure: `RSS added by ${name} (${when})`, unit: 'MB', ours: (rss - bare) / 1e6, reference: bare / 1e6, referenceName: 'bare Node' });
  }
  const all = await rssWith(daemon, runs);
  rows.push({ figure: "RSS added by the daemon's modules together (dist/daemon.js)", unit: 'MB', ours: (all - bare) / 1e6, reference: bare / 1e6, referenceName: 'bare Node' });
  return { rows, bare, all };
}
