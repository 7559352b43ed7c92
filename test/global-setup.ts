// Builds dist/ once before the tests, so the CLI is tested as users run it (node dist/cli.js),
// and dist-dev/ (the daemon with the demo harness) for the demo and the fixtures that run in
// a child process.

import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

export default function setup(): void {
  // From clean folders: a module removed from src/ must not live on in dist/.
  for (const [project, out] of [['tsconfig.build.json', 'dist'], ['tsconfig.dev.json', 'dist-dev']] as const) {
    rmSync(out, { recursive: true, force: true });
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });
  }
}
