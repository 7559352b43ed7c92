// Case 4 in a process of its own, with the V8 flags the daemon runs with (the garbage
// collector's young generation is what a fan-out of hundreds of scrapes exercises most):
// `node bench/fan-out-worker.mjs OPTIONS_JSON`, prints measureFanOut's result as one JSON line.

import { measureFanOut } from './cases/fan-out.mjs';

const result = await measureFanOut(JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
