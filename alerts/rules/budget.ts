// Does Coder's planned worst case fit into the slots PostgreSQL leaves it?

import { figure, m, max, min } from '../promql.js';
import type { RuleGroup } from '../rule.js';

const budget = (phase: 'steady' | 'rollout') =>
  figure((q) => max(`${q.m('postgres_budget_connections', { phase })} or ${q.m('coder_budget_connections', { phase })}`));
const leftForCoder = figure((q) => min(q.m('coder_available_connections')));

export const budgetRules: RuleGroup = {
  name: 'coder-pg-capacity.budget',
  about: "Does Coder's planned worst case fit into the slots PostgreSQL leaves it?",
  rules: [
    {
      alert: 'CoderPostgresBudgetOvercommitted',
      why: 'min: the monitor that sees the least headroom wins; a budget that does not fit by any monitor\'s count is worth a page. -Inf (an unbounded pool) fires too.',
      expr: `${min(m('budget_headroom_connections', { phase: 'steady' }))} < 0`,
      for: '10m',
      severity: 'critical',
      summary: "Coder's replicas may open more PostgreSQL connections than are left for Coder.",
      description: `Steady-state budget ${budget('steady')} connections > ${leftForCoder} left for Coder (the available slots less what other applications hold or have committed): budget headroom {{ $value | humanize }} connections{{ if eq ($value | humanize) "-Inf" }}, because a replica's pool is unbounded (see CoderDatabasePoolUnbounded){{ end }}. When the replicas' pools fill up, PostgreSQL refuses connections and Coder fails API requests and workspace builds.`,
    },
    {
      alert: 'CoderPostgresRolloutOvercommitted',
      why: 'min, as above. `unless` leaves this to the critical alert when steady state does not fit either.',
      expr: `${min(m('budget_headroom_connections', { phase: 'rollout' }))} < 0\nunless ignoring (phase)\n${min(m('budget_headroom_connections', { phase: 'steady' }))} < 0`,
      for: '10m',
      severity: 'warning',
      summary: 'A rolling update of Coder would need more PostgreSQL connections than are left for Coder.',
      description: `Rollout budget ${budget('rollout')} connections (steady ${budget('steady')} plus the surge pods) > ${leftForCoder} left for Coder: budget headroom {{ $value | humanize }} connections. Steady state fits, but during the next rollout the old and the surge pods together can exhaust PostgreSQL.`,
    },
  ],
};
