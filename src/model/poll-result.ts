// One poll, as everyone who reads it sees it (the exposition, the views, `check`): the
// snapshot the sources observed, what the model derived from it, and each source's report.

import type { Evaluation } from './capacity.js';
import type { Snapshot } from './snapshot.js';

/** One polled part's outcome: source_up, poll_duration_seconds and poll_errors_total{source}. */
export interface SourceReport {
  /** postgres, discovery, coder, ...: the `source` label. */
  source: string;
  /** Whether everything it asked answered. */
  up: boolean;
  seconds: number;
  /** One per failing target (a replica, a name, an instance): counted, and logged on transition. */
  errors: { target: string; message: string }[];
}

export interface PollResult extends Evaluation {
  snapshot: Snapshot;
  /** Each source's report, in the order the sources are listed. */
  sources: SourceReport[];
  /** Why PostgreSQL could not be polled, when it could not (the failure's message). */
  postgresError: string | null;
  /** The errors of discovery and of the replicas' scrapes, by source. */
  coderErrors: { source: 'discovery' | 'coder'; target: string; message: string }[];
  /** Wall time of PostgreSQL's poll statement; null when it did not run. */
  roundTripSeconds: number | null;
  /** Wall-clock end of the poll, ms since the epoch. */
  completedAt: number;
}
