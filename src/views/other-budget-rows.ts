// Each --other.budget declaration as a row a person reads: the selector, its declared pool,
// and what it covers now (stale when it holds more than it declared). For the status page
// and `check`, from the model's figures.

import type { Capacity } from '../model/capacity.js';

export interface OtherBudgetRow {
  selector: string;
  declared: number;
  live: number;
  stale: boolean;
}

export function otherBudgetRows(capacity: Capacity | null): OtherBudgetRow[] {
  return (capacity?.otherDeclarations ?? []).map((declaration) => ({
    selector: declaration.text,
    declared: declaration.budget,
    live: declaration.live,
    stale: declaration.live > declaration.budget,
  }));
}
