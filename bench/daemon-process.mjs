// Our daemon as operators run it: `node dist/cli.js serve` in a process of its own, on a
// free loopback port, ready once /readyz says the first PostgreSQL poll succeeded.

import { fileURLToPath } from 'node:url';
import { daemonNodeFlags } from './node-flags.mjs';
import { spawnTracked, stopChild, waitForHttp } from './processes.mjs';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export async function startDaemonProcess({ postgresUrl, coderTargets }) {
  const child = spawnTracked(process.execPath, [
    ...daemonNodeFlags(),
    cli,
    'serve',
    '--postgres.url', postgresUrl,
    '--coder.targets', coderTargets.join(','),
    '--web.listen-address', '127.0.0.1:0',
    '--log.level', 'info',
  ]);
  const port = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`the daemon printed no "started" line within 20 s:\n  ${child.recentOutput.join('\n  ')}`)), 20_000);
    const onData = (data) => {
      text += data;
      const match = /"listen":"[^"]*:(\d+)"/.exec(text);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the daemon exited (${code}) at start:\n  ${child.recentOutput.join('\n  ')}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/readyz`, { child, what: 'the daemon', timeoutMs: 20_000 });
  return { url, pid: child.pid, stop: () => stopChild(child) };
}
