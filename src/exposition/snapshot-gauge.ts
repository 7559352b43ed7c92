// A gauge built at scrape time from the latest poll, like client_golang's const metrics:
// it has exactly the series its fill function gives, so a vanished replica leaves no
// stale series and a figure that cannot be derived is absent. (prom-client's own Gauge
// cannot do the last part: a gauge without labels always exports a value, 0 after reset.)

import type { Metric, Registry } from 'prom-client';

export type Fill<L extends string> = (set: (labels: Partial<Record<L, string>>, value: number) => void) => void;

/** The shape prom-client's Registry reads from each registered metric. */
interface Collected<L extends string> {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  aggregator: 'sum';
  values: { labels: Partial<Record<L, string>>; value: number }[];
}

/**
 * `type` is 'counter' for a counter mirrored from elsewhere (a replica's go_sql_*_total):
 * built the same way, typed as what it is, so promtool and rate() treat it right.
 */
export function registerSnapshotGauge<L extends string>(registry: Registry, name: string, help: string, fill: Fill<L>, type: 'gauge' | 'counter' = 'gauge'): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get(): Collected<L> {
      const values: Collected<L>['values'] = [];
      fill((labels, value) => values.push({ labels, value }));
      return { name, help, type, aggregator: 'sum', values };
    },
  };
  registry.registerMetric(metric as unknown as Metric);
}
