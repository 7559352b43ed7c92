// Other applications' committed connections (Uo'): what they may open, not only what they
// hold now. Each declared pool counts at its declared size; live other connections that no
// declaration covers count as they are (the monitor's own included). Without declarations
// Uo' = Uo. The budget then leaves room for max(Uo, Uo').

import type { ConnectionGroup, OtherBudget, PostgresFacts } from './snapshot.js';

export interface OtherDeclaration {
  /** As written: etl, etl@warehouse, app:airflow. */
  text: string;
  budget: number;
  /** Live connections it covers now; above `budget`, the declaration is stale. */
  live: number;
}

export interface OtherCommitment {
  /** Uo' */
  committed: number;
  declarations: OtherDeclaration[];
  /** Live other connections no declaration covers. */
  undeclared: number;
}

function covers(budget: OtherBudget, group: ConnectionGroup): boolean {
  const { selector } = budget;
  if (selector.kind === 'application') return group.application === selector.application;
  return group.role === selector.role && (selector.database === null || group.database === selector.database);
}

/** Uo' from the live connections and the declarations; a connection counts for the first declaration that covers it. */
export function otherCommitment(pg: PostgresFacts, budgets: readonly OtherBudget[]): OtherCommitment {
  const declarations = budgets.map((budget) => ({ text: budget.text, budget: budget.budget, live: 0 }));
  let undeclared = 0;
  for (const group of pg.connections) {
    if (group.owner === 'coder') continue;
    const index = budgets.findIndex((budget) => covers(budget, group));
    if (index === -1) undeclared += group.count;
    else (declarations[index] as OtherDeclaration).live += group.count;
  }
  const committed = declarations.reduce((sum, declaration) => sum + declaration.budget, 0) + undeclared;
  return { committed, declarations, undeclared };
}
