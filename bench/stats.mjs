// Order statistics over measured samples.

/** The q-quantile (0..1) of samples, nearest rank, as latency percentiles are usually read. */
export function quantile(samples, q) {
  if (samples.length === 0) throw new Error('quantile of no samples: the measurement produced nothing');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

export const median = (samples) => quantile(samples, 0.5);

/** Runs work `times` times, one after another; returns each run's wall time in ms. */
export async function timeRuns(times, work) {
  const ms = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await work(i);
    ms.push(performance.now() - started);
  }
  return ms;
}
