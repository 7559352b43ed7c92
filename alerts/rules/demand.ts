// The pool Coder needs, over a longer view than the daemon keeps: it holds
// --capacity.demand-window (24 h by default) in memory; Prometheus keeps the week.

import { thresholds } from '../../src/model/thresholds.js';
import { m } from '../promql.js';
import type { RuleGroup } from '../rule.js';

const days = thresholds.neededPoolMaxDays;

/** The recorded series' name, for the dashboard and the docs. */
export const neededPoolMaxLongView = `job:coder_pg_capacity_needed_pool_max_connections:max_over_time${days}d`;

export const demandRules: RuleGroup = {
  name: 'coder-pg-capacity.demand',
  about: `The pool Coder needs, over ${days} days: the daemon keeps --capacity.demand-window (24 h by default) in memory; Prometheus keeps the longer view.`,
  rules: [
    {
      record: neededPoolMaxLongView,
      why: 'max: the busiest reading of any monitor. Compare with coder_pg_capacity_recommended_pool_max_connections before setting a pool max.',
      expr: `max without (instance, pod) (max_over_time(${m('needed_pool_max_connections')}[${days}d]))`,
    },
  ],
};
