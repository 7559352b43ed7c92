// `coder-pg-capacity check` as users run it: the built dist/cli.js in a child process,
// without blocking this one (stand-in replicas served from here must keep answering).

import { execFile } from 'node:child_process';

export interface CheckRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCheckCli(args: string[], env: Record<string, string> = {}): Promise<CheckRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/cli.js', 'check', '--poll.timeout', '3s', ...args],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}
