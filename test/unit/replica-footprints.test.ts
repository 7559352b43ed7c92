// Each replica as PostgreSQL sees it: the budget counts what each replica really holds
// outside its pool, where its address tells; where it cannot, nothing is guessed and the
// connections no replica explains still count against the headroom.

import { describe, expect, it } from 'vitest';
import { computeCapacity, evaluate, type Capacity } from '../../src/model/capacity.js';
import { observeDemand } from '../../src/model/demand.js';
import { footprintObservation } from '../../src/model/replica-footprints.js';
import type { ReplicaSample, Snapshot } from '../../src/model/snapshot.js';
import { assess } from '../../src/model/verdict.js';
import { createMetrics } from '../../src/exposition/metrics.js';
import { renderStatusPage } from '../../src/views/status-page.js';
import { group, postgres, replica, snapshot } from '../support/snapshots.js';

function capacityOf(input: Snapshot): Capacity {
  const capacity = computeCapacity(input);
  if (!capacity) throw new Error('expected a capacity');
  return capacity;
}

const pods = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const podReplicas = (): ReplicaSample[] => pods.map((address) => replica(address, { address }));

/** Three replicas at pool max 20, each 5 pooled + LISTEN + a sender: 7 backends, from `from(i)`. */
function withSenders(from: (i: number) => string): Snapshot {
  const coderAddresses = new Map<string, number>();
  pods.forEach((_, i) => coderAddresses.set(from(i), (coderAddresses.get(from(i)) ?? 0) + 7));
  return snapshot({
    postgres: postgres({
      connections: [group('coder', 21), group('other', 7), group('monitor', 1, { state: 'active' })],
      coderAddresses: [...coderAddresses].map(([address, count]) => ({ address, count })),
      monitorAddress: '127.0.0.1',
    }),
    replicas: podReplicas(),
  });
}

/** The snapshot with its demand window holding this one poll, as the poller builds it. */
function polledOnce(input: Snapshot): Snapshot {
  const { samples, multiple } = footprintObservation(input.postgres, input.replicas, false);
  return { ...input, demand: observeDemand(null, samples, 0, 86_400_000, multiple) };
}

describe('replicas whose own addresses tell their backends apart', () => {
  const capacity = capacityOf(polledOnce(withSenders((i) => pods[i]!)));

  it('counts 7 backends for each replica, 2 of them outside its pool of 5', () => {
    expect(capacity.replicaFootprints.map(({ backends, outsidePool, gap }) => ({ backends, outsidePool, gap }))).toEqual(
      pods.map(() => ({ backends: 7, outsidePool: 2, gap: null })),
    );
  });

  it('budgets 20 + 2 a replica: 66 steady and 88 in a rollout, budget headroom -17', () => {
    expect(capacity.replicaFootprints.map((footprint) => footprint.extra)).toEqual([2, 2, 2]);
    expect(capacity.budget).toEqual({ steady: 66, rollout: 88 });
    expect(capacity.budgetHeadroom).toEqual({ steady: -17, rollout: -39 });
  });

  it('leaves nothing unaccounted and recommends pool max 7, the largest that fits', () => {
    expect(capacity.unaccounted).toBe(0);
    expect(capacity.coderBeyondBudget).toBe(0);
    expect(capacity.recommendedPoolMax).toBe(7);
  });

  it('keeps a replica budgeted at the most it held outside its pool over the window, not at what it holds now', () => {
    const before = polledOnce(withSenders((i) => pods[i]!));
    const now = withSenders((i) => pods[i]!);
    // The senders are gone now (a restart): 6 backends each, but the window saw 2 outside.
    const quieter = { ...now, postgres: { ...now.postgres!, connections: [group('coder', 18), group('other', 7), group('monitor', 1)], coderAddresses: pods.map((address) => ({ address, count: 6 })) } };
    const { samples, multiple } = footprintObservation(quieter.postgres, quieter.replicas, false);
    const later = capacityOf({ ...quieter, demand: observeDemand(before.demand, samples, 1000, 86_400_000, multiple) });
    expect(later.replicaFootprints.map((footprint) => [footprint.outsidePool, footprint.extra])).toEqual([[1, 2], [1, 2], [1, 2]]);
    expect(later.budget?.steady).toBe(66);
  });
});

describe('replicas behind one shared address (SNAT, a proxy)', () => {
  const capacity = capacityOf(polledOnce(withSenders(() => '127.0.0.9')));

  it("leaves each replica's backends absent, saying why", () => {
    expect(capacity.replicaFootprints.map(({ backends, outsidePool, gap }) => ({ backends, outsidePool, gap }))).toEqual(
      pods.map(() => ({ backends: null, outsidePool: null, gap: 'no_backends_at_address' })),
    );
  });

  it('counts the 3 connections no replica explains against the headroom: -17 all the same', () => {
    expect(capacity.budget?.steady).toBe(63);
    expect(capacity.unaccounted).toBe(3);
    expect(capacity.coderBeyondBudget).toBe(3);
    expect(capacity.budgetHeadroom?.steady).toBe(-17);
  });

  it('says the unaccounted stayed 1 per replica up: one more outside each pool', () => {
    expect(capacity.unaccountedPerReplica).toBe(1);
  });

  it('calls two replicas seen from one address shared, never splits their count', () => {
    const input = withSenders(() => '127.0.0.9');
    const same = capacityOf({ ...input, replicas: input.replicas.map((r) => ({ ...r, address: '127.0.0.9' })) });
    expect(same.replicaFootprints.map((footprint) => footprint.gap)).toEqual(['address_shared', 'address_shared', 'address_shared']);
  });
});

describe('a sidecar beside its coderd', () => {
  it("finds its coderd's backends at the address its own backend comes from", () => {
    const capacity = capacityOf(
      snapshot({
        postgres: postgres({
          connections: [group('coder', 7), group('other', 7), group('monitor', 1)],
          coderAddresses: [{ address: '10.2.0.17', count: 7 }],
          monitorAddress: '10.2.0.17',
        }),
        replicas: [replica('localhost', { address: '127.0.0.1' })],
      }),
    );
    expect(capacity.replicaFootprints[0]).toMatchObject({ address: '10.2.0.17', backends: 7, outsidePool: 2, extra: 2 });
  });
});

describe('a replica that cannot be scraped', () => {
  it('keeps its connections within its own budget share, not counted twice against the headroom', () => {
    const input = snapshot({
      postgres: postgres({ connections: [group('coder', 18), group('other', 7), group('monitor', 1)], coderAddresses: [{ address: '127.0.0.9', count: 18 }] }),
      replicas: [replica('a'), replica('b'), replica('c', { up: false, open: null, inUse: null, idle: null, pubsubConnected: null })],
    });
    const capacity = capacityOf(input);
    expect(capacity.unaccounted).toBe(6);
    expect(capacity.coderBeyondBudget).toBe(0);
    expect(capacity.budgetHeadroom?.steady).toBe(-14);
  });
});

describe('what the findings say about each replica', () => {
  const findingsOf = (input: Snapshot) => {
    const polled = polledOnce(input);
    const { capacity, blind, postgresFull } = evaluate(polled);
    return assess({ snapshot: polled, capacity, blind, postgresFull, postgresError: null, coderErrors: [], completedAt: 0, sources: [], roundTripSeconds: 0.001 }).findings;
  };

  it('names --coder.extra-connections 2 when the unaccounted stay 1 per replica behind a shared address', () => {
    const findings = findingsOf(withSenders(() => '127.0.0.9'));
    const extra = findings.find((finding) => finding.id === 'extra-connections-unbudgeted');
    expect(extra?.title).toBe('Each replica holds 1 more connection outside its pool than the budget counts');
    expect(extra?.detail).toContain('Set --coder.extra-connections 2');
    expect(findings.find((finding) => finding.id === 'replica-footprints-unknown')?.detail).toContain('no Coder backend comes from its address');
    expect(findings.map((finding) => finding.id)).not.toContain('unaccounted-connections');
  });

  it('says nothing of extra connections when each replica is measured and budgeted as it is', () => {
    const ids = findingsOf(withSenders((i) => pods[i]!)).map((finding) => finding.id);
    expect(ids).not.toContain('extra-connections-unbudgeted');
    expect(ids).not.toContain('replica-footprints-unknown');
    expect(ids).not.toContain('unaccounted-connections');
  });

  it('names a replica that lost its LISTEN, and keeps it budgeted', () => {
    const input = withSenders((i) => pods[i]!);
    const lost = { ...input, replicas: input.replicas.map((r, i) => (i === 1 ? { ...r, pubsubConnected: 0 } : r)) };
    const finding = findingsOf(lost).find((f) => f.id === 'pubsub-disconnected');
    expect(finding?.title).toBe('1 replica lost its pubsub LISTEN connection');
    expect(finding?.detail).toContain('http://127.0.0.3:2112/metrics reports coder_pubsub_connected 0');
    expect(capacityOf(lost).budget?.steady).toBe(66);
  });

  it("names the replica whose own round trip to PostgreSQL is 14.2 ms, from Coder's replicas table", () => {
    const input = withSenders((i) => pods[i]!);
    const rows = [
      { hostname: 'coder-7d9f-abcde', relayAddress: 'http://127.0.0.2:6060', version: 'v2.30.0', error: '', databaseLatencySeconds: 0.0142 },
      { hostname: 'coder-7d9f-fghij', relayAddress: 'http://127.0.0.3:6060', version: 'v2.30.0', error: '', databaseLatencySeconds: 0.0009 },
    ];
    const finding = findingsOf({ ...input, postgres: { ...input.postgres!, replicaRows: rows } }).find((f) => f.id === 'replica-latency-high');
    expect(finding?.title).toBe("1 replica's own round trip to PostgreSQL is above 10.0 ms");
    expect(finding?.detail).toMatch(/^coder-7d9f-abcde 14\.2 ms \(Coder's replicas table/);
  });
});

describe("Coder's own view of its replicas (--coder.replicas-from-db)", () => {
  const rows = [
    { hostname: 'coder-7d9f-abcde', relayAddress: 'http://127.0.0.2:6060', version: 'v2.30.0', error: '', databaseLatencySeconds: 0.0142 },
    { hostname: 'coder-7d9f-fghij', relayAddress: 'http://127.0.0.3:6060', version: 'v2.30.0', error: 'derp unreachable', databaseLatencySeconds: 0.0009 },
  ];
  const input = withSenders((i) => pods[i]!);
  const polled = polledOnce({ ...input, postgres: { ...input.postgres!, replicaRows: rows } });
  const result = { snapshot: polled, ...evaluate(polled), postgresError: null, coderErrors: [], completedAt: 0, sources: [], roundTripSeconds: 0.001 };

  it('names each replica by its pod where its relay address has the replica\'s address', () => {
    expect(result.capacity?.replicaFootprints.map((footprint) => footprint.hostname)).toEqual(['coder-7d9f-abcde', 'coder-7d9f-fghij', null]);
  });

  it('exposes each replica\'s own latency in seconds: 14200 us reads 0.0142', async () => {
    const metrics = createMetrics(() => result, 'test');
    metrics.record(result);
    const text = await metrics.render();
    expect(text).toContain('coder_pg_capacity_replica_database_latency_seconds{hostname="coder-7d9f-abcde"} 0.0142');
    expect(text).toContain('coder_pg_capacity_replica_backends{replica="http://127.0.0.2:2112/metrics"} 7');
    expect(text).toContain('coder_pg_capacity_replica_outside_pool_connections{replica="http://127.0.0.2:2112/metrics"} 2');
  });

  it('shows the hostname, the version, the slow latency and the error on the status page', () => {
    const page = renderStatusPage(result, { version: 'test', now: 0 });
    expect(page).toContain('<td class="name">coder-7d9f-abcde <span class="dim">http://127.0.0.2:2112/metrics</span></td>');
    expect(page).toMatch(/<tr data-hostname="coder-7d9f-abcde"><td class="name">coder-7d9f-abcde<\/td><td>v2.30.0<\/td><td class="num bad">14.2 ms<\/td>/);
    expect(page).toContain('derp unreachable');
  });
});
