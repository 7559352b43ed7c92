// node-postgres asks at load time whether it runs in a Cloudflare Worker (pg/lib/stream.js):
// it reads `navigator.userAgent`, and where there is no `navigator` (Node 20; Node 21 added
// one) it constructs a `Response`, which loads undici, Node's whole fetch implementation,
// into a daemon that never fetches: 3 MB of idle resident memory (bench case 5, measured
// 80.2 -> 77.1 MB on Node 20). Giving Node 20 the `navigator` Node 21 and later have, with
// their userAgent form, ends that probe at its first question. This module is imported
// right before pg by the one module that loads pg at run time (persistent-client.ts).

declare global {
  // Node 20's types do not declare it; Node 21+ have it as a global.
  var navigator: { userAgent: string } | undefined;
}

globalThis.navigator ??= { userAgent: `Node.js/${process.versions.node.split('.')[0]}` };

export {};
