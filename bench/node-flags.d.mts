// Types of bench/node-flags.mjs, for the tests that import it.
export declare function daemonNodeFlags(): string[];
