// The contract every source keeps, as postgres_exporter's collectors do: it observes one
// part of the world, never throws, and reports per part it polled whether that part
// answered, how long it took and what failed. The poller runs any list of sources side by
// side and merges what they observed into one Snapshot; a new source is one new file and
// one line where the daemon lists its sources.

import type { SourceReport } from '../model/poll-result.js';
import type { Observations } from '../model/snapshot.js';

export type { SourceReport };

export interface SourceCollection {
  /** The parts of the snapshot this source observed. */
  observations: Partial<Observations>;
  reports: SourceReport[];
}

export interface Source {
  /** The names of the reports it gives, known before the first poll (the counters start at 0). */
  readonly reportNames: readonly string[];
  /** Polls once; every failure is data in the reports, never an exception. */
  collect(): Promise<SourceCollection>;
  /** Releases connections; the source is not polled again. */
  close?(): Promise<void>;
}

/** Runs `work` and measures its wall time in seconds. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}
