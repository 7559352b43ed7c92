// The Coder-like cluster of the demo (dev/cluster.ts), for the tests.
export * from '../../dev/cluster.js';
