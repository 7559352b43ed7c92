// Builders for the gauges that are rebuilt from the latest poll at scrape time (see
// snapshot-gauge.ts), shared by the metric files of each concern. Names, help and label
// names come from the metric contract (src/contract/metrics.ts): a fill can only set the
// labels its family declares.

import type { Registry } from 'prom-client';
import { metricFamilies, metricName, type FamilyName, type LabelOf } from '../contract/metrics.js';
import type { Capacity } from '../model/capacity.js';
import type { PollResult } from '../model/poll-result.js';
import { registerSnapshotGauge } from './snapshot-gauge.js';

export type Latest = () => PollResult | null;
type Set<L extends string> = (labels: Partial<Record<L, string>>, value: number) => void;

/** Families with a phase label only: a steady and a rollout value. */
type PhasedFamily = { [F in FamilyName]: LabelOf<F> extends 'phase' ? ([LabelOf<F>] extends [never] ? never : F) : never }[FamilyName];
/** Families without labels: one value. */
type PlainFamily = { [F in FamilyName]: [LabelOf<F>] extends [never] ? F : never }[FamilyName];

export interface SnapshotGauges {
  /** A gauge (or mirrored counter) with the series `fill` gives for the latest poll; none before the first. */
  gauge<F extends FamilyName>(family: F, fill: (set: Set<LabelOf<F>>, result: PollResult) => void): void;
  /** A figure of the model: absent while PostgreSQL is down, and when the model left it null. */
  capacityGauge(family: PlainFamily, value: (capacity: Capacity) => number | null): void;
  /** A figure with a steady and a rollout value, as {phase}. */
  phased(family: PhasedFamily, value: (capacity: Capacity) => { steady: number; rollout: number } | null): void;
}

export function snapshotGauges(registry: Registry, latest: Latest): SnapshotGauges {
  const gauge: SnapshotGauges['gauge'] = (family, fill) => {
    const { type, help } = metricFamilies[family];
    if (type === 'histogram') throw new Error(`${family} is a histogram: register it with prom-client, not as a snapshot gauge`);
    registerSnapshotGauge(registry, metricName(family), help, (set) => {
      const result = latest();
      if (result) fill(set, result);
    }, type);
  };
  return {
    gauge,
    capacityGauge(family, value) {
      gauge(family, (set, result) => {
        const v = result.capacity ? value(result.capacity) : null;
        if (v !== null) set({}, v);
      });
    },
    phased(family, value) {
      gauge(family, (set: Set<'phase'>, result) => {
        const v = result.capacity ? value(result.capacity) : null;
        if (!v) return;
        set({ phase: 'steady' }, v.steady);
        set({ phase: 'rollout' }, v.rollout);
      });
    },
  };
}
