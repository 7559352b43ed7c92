// Builders for snapshots in unit tests: the defaults are the scenario of the daemon
// issue's "Done when" (max_connections 60, three replicas at pool max 20 holding
// 5 pooled + 1 LISTEN connections each, 7 connections of another role, the monitor).

import type { ConnectionGroup, PlanSettings, PostgresFacts, ReplicaSample, Snapshot } from '../../src/model/snapshot.js';

export function plan(overrides: Partial<PlanSettings> = {}): PlanSettings {
  return {
    plannedReplicas: null,
    defaultPoolMax: 10,
    extraConnections: 1,
    maxSurge: { kind: 'percent', value: 25 },
    maxUnavailable: { kind: 'percent', value: 25 },
    otherBudgets: [],
    safetyMargin: 0.2,
    ...overrides,
  };
}

export function group(owner: ConnectionGroup['owner'], count: number, overrides: Partial<ConnectionGroup> = {}): ConnectionGroup {
  const role = owner === 'coder' ? 'coder' : owner === 'monitor' ? 'monitor' : 'analytics';
  return { database: 'coder', role, application: '', state: 'idle', owner, count, ...overrides };
}

export function postgres(overrides: Partial<PostgresFacts> = {}): PostgresFacts {
  return {
    serverVersion: '18.0',
    serverVersionNum: 180000,
    maxConnections: 60,
    superuserReservedConnections: 3,
    reservedConnections: 0,
    providerReservedConnections: 0,
    providerReservedSource: 'none',
    coderRole: { name: 'coder', superuser: false, connectionLimit: -1, canUseReservedConnections: false },
    coderDatabase: { name: 'coder', connectionLimit: -1 },
    privilegesSufficient: true,
    connections: [group('coder', 18), group('other', 7), group('monitor', 1, { state: 'active' })],
    inRecovery: false,
    coderAddresses: [],
    monitorAddress: null,
    liveReplicasFromDb: null,
    replicaRows: null,
    replicasTableError: null,
    session: { user: 'monitor', database: 'coder', port: 5432, superuser: false },
    idleInTransaction: [],
    notifyQueueUsage: 0,
    ...overrides,
  };
}

export function replica(name: string, overrides: Partial<ReplicaSample> = {}): ReplicaSample {
  return {
    replica: `http://${name}:2112/metrics`,
    address: null,
    up: true,
    poolMax: 20,
    open: 5,
    inUse: 1,
    idle: 4,
    waitCount: 0,
    waitDurationSeconds: 0,
    pubsubConnected: 1,
    closed: { max_idle: 0, max_idle_time: 0, max_lifetime: 0 },
    scrapeBytes: 1024,
    ...overrides,
  };
}

export function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    postgres: postgres(),
    postgresFailure: null,
    replicas: [replica('a'), replica('b'), replica('c')],
    plan: plan(),
    sources: { coderTargetsConfigured: true, replicasFromDb: false },
    attribution: { role: 'coder', database: 'coder', applicationName: null },
    previousUnaccounted: null,
    previousCloses: null,
    demand: null,
    ...overrides,
  };
}
