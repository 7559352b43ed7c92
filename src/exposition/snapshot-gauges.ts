// Builders for the gauges that are rebuilt from the latest poll at scrape time (see
// snapshot-gauge.ts), shared by the metric files of each concern.

import type { Registry } from 'prom-client';
import type { Capacity } from '../model/capacity.js';
import type { PollResult } from '../model/poll-result.js';
import { registerSnapshotGauge } from './snapshot-gauge.js';

export const PREFIX = 'coder_pg_capacity_';

export type Latest = () => PollResult | null;
type Set<L extends string> = (labels: Partial<Record<L, string>>, value: number) => void;

export interface SnapshotGauges {
  /** A gauge (or mirrored counter) with the series `fill` gives for the latest poll; none before the first. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], fill: (set: Set<L>, result: PollResult) => void, type?: 'gauge' | 'counter'): void;
  /** A figure of the model: absent while PostgreSQL is down, and when the model left it null. */
  capacityGauge(name: string, help: string, value: (capacity: Capacity) => number | null): void;
  /** A figure with a steady and a rollout value, as {phase}. */
  phased(name: string, help: string, value: (capacity: Capacity) => { steady: number; rollout: number } | null): void;
}

export function snapshotGauges(registry: Registry, latest: Latest): SnapshotGauges {
  const gauge: SnapshotGauges['gauge'] = (name, help, _labelNames, fill, type = 'gauge') =>
    registerSnapshotGauge(registry, PREFIX + name, help, (set) => {
      const result = latest();
      if (result) fill(set, result);
    }, type);
  return {
    gauge,
    capacityGauge(name, help, value) {
      gauge(name, help, [], (set, result) => {
        const v = result.capacity ? value(result.capacity) : null;
        if (v !== null) set({}, v);
      });
    },
    phased(name, help, value) {
      gauge(name, help, ['phase'], (set, result) => {
        const v = result.capacity ? value(result.capacity) : null;
        if (!v) return;
        set({ phase: 'steady' }, v.steady);
        set({ phase: 'rollout' }, v.rollout);
      });
    },
  };
}
