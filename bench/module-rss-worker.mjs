// What one module costs in resident memory: a Node process (with the daemon's V8 flags)
// imports it and reports its RSS once settled. `node bench/module-rss-worker.mjs MODULE`
// ('' for none), prints one JSON line.

const [specifier] = process.argv.slice(2);
if (specifier) await import(specifier);
// Let lazy compilation and the first GC settle, as they would in the daemon.
await new Promise((resolve) => setTimeout(resolve, 300));
process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss })}\n`);
