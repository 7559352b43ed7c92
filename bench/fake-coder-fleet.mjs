// Fake coderd replicas for the fan-out and footprint benchmarks: many /metrics endpoints,
// each on a port of its own (distinct origins, as real replicas are), each answering a
// Coder-like exposition of a chosen size after a chosen delay (the network and coderd's
// own gathering). They run in a child process so that serving them does not share the
// scraper's event loop; what they cost the machine's two cores is part of the picture.
//
// With `filtering`, each answers /metrics?name[]=... with only the families named, as
// coderd on client_golang 1.24 and later does; without, it ignores name[] like older ones.
//
// As a module: startFakeCoderFleet({ replicas, bytes, delayMs, gzip, filtering }) -> { urls, stop }.
// As a script (the child): prints the URLs as one JSON line once every server listens.

import http from 'node:http';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { filterFamilies } from '../dist-dev/dev/client-golang-format.js';
import { coderExposition } from './coder-exposition.mjs';
import { spawnTracked, stopChild } from './processes.mjs';

const self = fileURLToPath(import.meta.url);

export async function startFakeCoderFleet({ replicas, bytes, delayMs, gzip = false, filtering = false }) {
  const child = spawnTracked(process.execPath, [self, String(replicas), String(bytes), String(delayMs), gzip ? 'gzip' : 'identity', filtering ? 'filtering' : 'all']);
  const urls = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (data) => {
      text += data;
      const newline = text.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(text.slice(0, newline)).urls);
    });
    child.once('exit', (code) => reject(new Error(`the fake coderd fleet exited (${code}) at start:\n  ${child.recentOutput.join('\n  ')}`)));
  });
  return { urls, stop: () => stopChild(child) };
}

async function serve(replicas, bytes, delayMs, encoding, filtering) {
  // One body per query for all replicas: built once, so serving costs a socket write, not a rebuild.
  const plain = coderExposition(bytes);
  const answers = new Map();
  const answerFor = (url) => {
    const names = filtering ? new URL(url, 'http://fleet').searchParams.getAll('name[]') : [];
    const key = names.join(',');
    let answer = answers.get(key);
    if (!answer) {
      const text = names.length > 0 ? Buffer.from(filterFamilies(plain.toString('latin1'), names), 'latin1') : plain;
      const body = encoding === 'gzip' ? zlib.gzipSync(text, { level: 1 }) : text;
      const headers = {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': String(body.length),
        ...(encoding === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
      };
      answer = { body, headers };
      answers.set(key, answer);
    }
    return answer;
  };
  const servers = [];
  for (let i = 0; i < replicas; i++) {
    const server = http.createServer((req, res) => {
      const { body, headers } = answerFor(req.url ?? '/');
      setTimeout(() => {
        res.writeHead(200, headers);
        res.end(body);
      }, delayMs);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  process.stdout.write(JSON.stringify({ urls: servers.map((s) => `http://127.0.0.1:${s.address().port}/metrics`) }) + '\n');
  process.once('SIGTERM', () => process.exit(0));
}

if (process.argv[1] === self) {
  const [replicas, bytes, delayMs, encoding, filtering] = process.argv.slice(2);
  await serve(Number(replicas), Number(bytes), Number(delayMs), encoding, filtering === 'filtering');
}
