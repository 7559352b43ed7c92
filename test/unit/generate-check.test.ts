// `npm run generate -- --check` is what keeps generated files honest in CI: it passes on
// the committed tree and fails, naming the file, when one was edited by hand.

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runGenerate } from '../support/generate.js';

let copy: string;

beforeAll(async () => {
  copy = await mkdtemp(path.join(tmpdir(), 'generate-check-'));
  for (const dir of ['alerts', 'grafana', 'deploy', 'docs']) await cp(path.join(repoRoot, dir), path.join(copy, dir), { recursive: true });
});
afterAll(() => rm(copy, { recursive: true, force: true }));

/** Replaces `from` by `to` in one file of the copy, and gives the original text back. */
async function editByHand(relative: string, from: string, to: string): Promise<string> {
  const file = path.join(copy, relative);
  const original = await readFile(file, 'utf8');
  expect(original).toContain(from);
  await writeFile(file, original.replace(from, to));
  return original;
}

describe('npm run generate -- --check', () => {
  it('passes on a tree whose generated files are as the contract gives them', () => {
    const run = runGenerate(['--check', '--root', copy]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('fails naming each file edited by hand: a rule threshold, a dashboard title, a docs table row', async () => {
    const edits: [string, string, string][] = [
      ['alerts/coder-pg-capacity.rules.yml', '(coder_pg_capacity_utilization_ratio) > 0.8', '(coder_pg_capacity_utilization_ratio) > 0.85'],
      ['grafana/coder-pg-capacity.json', '"title": "Utilization"', '"title": "Usage"'],
      ['docs/metrics.md', '| `coder_pg_capacity_postgres_up` | gauge |', '| `coder_pg_capacity_postgres_up` | counter |'],
    ];
    const originals = [];
    for (const [file, from, to] of edits) originals.push([file, await editByHand(file, from, to)] as const);
    try {
      const run = runGenerate(['--check', '--root', copy]);
      expect(run.status).toBe(1);
      for (const [file] of edits) expect(run.stderr).toContain(`  ${file}\n`);
      expect(run.stderr).toContain('run npm run generate');
    } finally {
      for (const [file, text] of originals) await writeFile(path.join(copy, file), text);
    }
  });
});
