// The findings about reaching Coder's replicas: replicas that cannot be scraped, and
// targets that could not be discovered. Either keeps the last known pools in the budget.

import type { Finding } from './finding.js';
import type { PollResult } from './poll-result.js';
import { plural } from './wording.js';

export function replicaFindings(result: PollResult): Finding[] {
  const findings: Finding[] = [];
  const down = result.snapshot.replicas.filter((replica) => !replica.up);
  if (down.length > 0) {
    const reasons = new Map(result.coderErrors.filter((error) => error.source === 'coder').map((error) => [error.target, error.message]));
    const detail = down.map((replica) => reasons.get(replica.replica) ?? `${replica.replica} cannot be scraped`).join('; ');
    findings.push({
      id: 'replicas-down',
      severity: 'warning',
      title: `${plural(down.length, 'replica')} cannot be scraped`,
      detail: `${detail}. ${down.length === 1 ? 'Its pool stays' : 'Their pools stay'} in the budget at the last known pool max; the connections show as unaccounted.`,
    });
  }
  const discovery = result.coderErrors.filter((error) => error.source === 'discovery');
  if (discovery.length > 0) {
    findings.push({
      id: 'discovery-failed',
      severity: 'warning',
      title: 'Coder targets could not be discovered',
      detail: discovery.map((error) => error.message).join('; '),
    });
  }
  return findings;
}
