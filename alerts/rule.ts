// The shape of one alerting or recording rule, as the generator writes it into
// alerts/coder-pg-capacity.rules.yml. Every field an operator reads is here once.

export type Severity = 'critical' | 'warning' | 'info';

export interface AlertRule {
  alert: string;
  /** Why this expression and this aggregation: written above the expr as a comment. */
  why: string;
  expr: string;
  for: string;
  severity: Severity;
  summary: string;
  /** May look figures up with figure()/query() (alerts/promql.ts). */
  description: string;
  /** The section of docs/runbooks.md; the alert's name in lower case when not given. */
  runbookAnchor?: string;
}

export interface RecordingRule {
  record: string;
  why: string;
  expr: string;
}

export interface RuleGroup {
  name: string;
  /** What the group watches: a comment above it. */
  about: string;
  rules: (AlertRule | RecordingRule)[];
}

export const isAlert = (rule: AlertRule | RecordingRule): rule is AlertRule => 'alert' in rule;
