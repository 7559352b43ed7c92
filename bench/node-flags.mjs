// The V8 flags the shipped daemon runs with, read from dist/cli.js's shebang (the one place
// they are declared; the Dockerfile's ENTRYPOINT repeats them and a test keeps the two
// equal), so that the bench measures the daemon as it runs, not a bare `node`.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export function daemonNodeFlags() {
  const shebang = readFileSync(cli, 'utf8').split('\n', 1)[0];
  const match = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(shebang);
  if (!match) throw new Error(`dist/cli.js starts with "${shebang}", not "#!/usr/bin/env -S node [--flags]"`);
  return match[1].trim().split(/\s+/).filter(Boolean);
}
