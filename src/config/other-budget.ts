// --other.budget: the pools of other applications, declared by the operator. An
// application that holds 7 connections at night and 40 at noon makes tonight's "fits"
// false; its declared size is what the budget must leave room for.
//
//   --other.budget 'etl=30,grafana@metrics=5,app:airflow-scheduler=12'

import type { OtherBudget } from '../model/snapshot.js';

/** Parses SELECTOR=N[,...]; SELECTOR is role, role@database or app:application_name. Every problem is reported. */
export function parseOtherBudgets(text: string): { budgets: OtherBudget[]; problems: string[] } {
  const budgets: OtherBudget[] = [];
  const problems: string[] = [];
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const match = /^(.+)=(\d+)$/.exec(item);
    if (!match) {
      problems.push(`"${item}" is not SELECTOR=N; expected e.g. etl=30, etl@warehouse=30 or app:airflow=12`);
      continue;
    }
    const selector = (match[1] as string).trim();
    const budget = Number(match[2]);
    if (selector.startsWith('app:')) {
      const application = selector.slice(4);
      if (application === '') problems.push(`"${item}": app: needs an application_name, e.g. app:airflow=12`);
      else budgets.push({ text: selector, selector: { kind: 'application', application }, budget });
      continue;
    }
    const [role, database, extra] = selector.split('@');
    if (!role || extra !== undefined || database === '') {
      problems.push(`"${item}": expected role=N or role@database=N`);
      continue;
    }
    budgets.push({ text: selector, selector: { kind: 'role', role, database: database ?? null }, budget });
  }
  const seen = new Set<string>();
  for (const { text: selector } of budgets) {
    if (seen.has(selector)) problems.push(`"${selector}" is declared twice`);
    seen.add(selector);
  }
  return { budgets, problems };
}
