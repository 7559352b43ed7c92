// What an HTTP client alone costs in resident memory: a bare Node process scrapes one
// URL COUNT times, one after another, with fetch (undici, what CoderSource used before) or with
// node:http, and reports its RSS before and after.
// `node bench/transport-rss-worker.mjs fetch|http URL COUNT`, prints one JSON line.

import { drainGet } from './node-http-get.mjs';

const [transport, url, countText] = process.argv.slice(2);
const count = Number(countText);

const getWithNodeHttp = () => drainGet(url);

async function getWithFetch() {
  const response = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
  for await (const _chunk of response.body);
}

const before = process.memoryUsage().rss;
const get = transport === 'fetch' ? getWithFetch : getWithNodeHttp;
for (let i = 0; i < count; i++) await get();
const after = process.memoryUsage().rss;
process.stdout.write(JSON.stringify({ transport, count, before, after, peak: process.resourceUsage().maxRSS * 1024 }) + '\n');
process.exit(0);
