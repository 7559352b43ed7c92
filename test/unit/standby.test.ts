// A standby (a reader endpoint) is not the server Coder uses: the monitor says it cannot
// judge, names the fix, and shows no figure of Coder's, in every view.

import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/model/capacity.js';
import type { PollResult } from '../../src/model/poll-result.js';
import { assess, exitCodeOf } from '../../src/model/verdict.js';
import { renderStatusPage } from '../../src/views/status-page.js';
import { postgres, snapshot } from '../support/snapshots.js';

const standby = snapshot({ postgres: postgres({ inRecovery: true }) });
const result: PollResult = { snapshot: standby, ...evaluate(standby), postgresError: null, coderErrors: [], completedAt: 0, sources: [], roundTripSeconds: 0.001 };

describe('a monitor pointed at a standby', () => {
  it('is blind for one reason, postgres_standby, and derives no figure', () => {
    expect(result.blind).toEqual(['postgres_standby']);
    expect(result.capacity).toBeNull();
    expect(result.postgresFull).toBe(false);
  });

  it('cannot judge (exit 2), naming the standby and the writer endpoint', () => {
    const assessment = assess(result);
    expect(assessment.verdict).toBe('Cannot judge: PostgreSQL (port 5432, database coder) is a standby');
    expect(exitCodeOf(assessment)).toBe(2);
    expect(assessment.findings[0]?.detail).toContain('Point --postgres.url at the primary (the writer endpoint)');
  });

  it('renders a status page that says so, with no budget on it', () => {
    const page = renderStatusPage(result, { version: 'test', now: 0 });
    expect(page).toContain('is a standby');
    expect(page).not.toMatch(/budget headroom[^<]*-?\d/i);
  });
});
