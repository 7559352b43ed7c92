// `check --postgres.max-connections N`: the same fleet on a server of another size, before a
// resize (RDS instance classes set max_connections). Run as users run it: dist/cli.js in a
// child process, against the reference scenario on a real PostgreSQL (max_connections 60).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReferenceCluster, type ReferenceCluster } from '../../dev/reference-scenario.js';
import { runCheckCli } from '../support/check-cli.js';

let cluster: ReferenceCluster | undefined;

beforeAll(async () => {
  cluster = await startReferenceCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

/** The value of a row of the report's plan, e.g. "max_connections   60 is too small: ...". */
function planRow(stdout: string, label: string): string | undefined {
  const line = stdout.split('\n').find((candidate) => candidate.trimStart().startsWith(`${label} `));
  return line?.slice(line.indexOf(label) + label.length).trim();
}

describe('check --postgres.max-connections on the reference scenario', () => {
  it('on 300 slots (297 available, 3 reserved kept) the fleet fits with the margin: exit 0', async () => {
    const run = await runCheckCli([...cluster!.daemonArgs, '--postgres.max-connections', '300']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('Fits');
    expect(run.stdout).toContain('Plan (what-if)');
    expect(planRow(run.stdout, 'judged')).toContain('on max_connections 300 (the server has 60)');
    expect(planRow(run.stdout, 'max_connections')).toBe('300 fits; 95 would fit a rollout, 118 with 20% spare');
    expect(run.stdout).toMatch(/available\s+297\s/);
    // The facts of the server as polled stay as they are.
    expect(run.stdout).toMatch(/max_connections\s+60\n/);
  });

  it('on 60 slots it does not fit (exit 2) and says which max_connections would: 95 for a rollout, 118 with 20% spare', async () => {
    const run = await runCheckCli([...cluster!.daemonArgs, '--postgres.max-connections', '60']);
    expect(run.status, run.stdout + run.stderr).toBe(2);
    expect(run.stdout.split('\n')[0]).toBe('Overcommitted');
    expect(planRow(run.stdout, 'max_connections')).toBe('60 is too small: 95 fits a rollout, 118 keeps 20% spare');
  });

  it('--output json carries the size judged and the sizes that fit', async () => {
    const run = await runCheckCli([...cluster!.daemonArgs, '--postgres.max-connections', '100', '--output', 'json']);
    const document = JSON.parse(run.stdout) as { whatIfMaxConnections: number; capacity: { available: number; fittingMaxConnections: { rollout: number; margin: number } }; verdict: { exitCode: number } };
    expect(document.whatIfMaxConnections).toBe(100);
    expect(document.capacity.available).toBe(97);
    expect(document.capacity.fittingMaxConnections).toEqual({ rollout: 95, margin: 118 });
    // 100 holds a rollout (95) but not the 20% margin (118): fits, with a warning.
    expect(document.verdict.exitCode).toBe(1);
    expect(run.status).toBe(1);
  });
});
