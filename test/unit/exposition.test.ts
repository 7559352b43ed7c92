// /metrics is rendered once when a poll lands and served from that text until the next:
// a scrape does no work proportional to the replicas or the connection groups.

import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/exposition/metrics.js';
import { evaluate } from '../../src/model/capacity.js';
import type { PollResult } from '../../src/model/poll-result.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { postgres, snapshot } from '../support/snapshots.js';

function pollOf(snap: Snapshot): PollResult {
  return { snapshot: snap, ...evaluate(snap), sources: [], postgresError: null, coderErrors: [], roundTripSeconds: 0.001, completedAt: 0 };
}

const available = (text: string) => /^coder_pg_capacity_available_connections (\d+)$/m.exec(text)?.[1];

describe('the exposition', () => {
  it('serves the figures of the last recorded poll, not whatever the poller holds between polls', async () => {
    let latest: PollResult | null = pollOf(snapshot());
    const metrics = createMetrics(() => latest, 'test');
    metrics.record(latest);
    expect(available(await metrics.render())).toBe('57');

    // The poller's latest changes, but no poll was recorded: the rendering stays.
    latest = pollOf(snapshot({ postgres: postgres({ maxConnections: 100 }) }));
    expect(available(await metrics.render())).toBe('57');

    metrics.record(latest);
    expect(available(await metrics.render())).toBe('97');
  });

  it("appends the process' own metrics to ours", async () => {
    const metrics = createMetrics(() => null, 'test');
    const text = await metrics.render();
    expect(text).toContain('coder_pg_capacity_build_info{version="test"} 1');
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
  });
});
