// The processes a benchmark run starts: spawned, tracked, measured (RSS from /proc) and
// always ended, also when the run breaks half-way (at exit, as a last resort).

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const live = new Set();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** spawn(), with the child ended at our exit and its last output kept for error messages. */
export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.recentOutput = [];
  const keep = (data) => {
    child.recentOutput.push(...data.toString().split('\n').filter((line) => line.trim() !== ''));
    if (child.recentOutput.length > 30) child.recentOutput.splice(0, child.recentOutput.length - 30);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

/** Ends a child: SIGTERM, then SIGKILL after graceMs. */
export async function stopChild(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resident set size of a running process, from /proc/PID/status (VmRSS, in kB). */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status: is process ${pid} still running?`);
  return Number(match[1]) * 1024;
}

/**
 * A running process's resident memory split in two (/proc/PID/smaps_rollup): pages of mapped
 * files (the node binary, shared libraries: shared with every process that maps them, and
 * dropped by the kernel under pressure) and the process's own anonymous memory.
 */
export function residentShares(pid) {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kB = (field) => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(rollup);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/smaps_rollup`);
    return Number(match[1]) * 1024;
  };
  const rss = kB('Rss');
  const anonymous = kB('Anonymous');
  return { rss, anonymous, fileBacked: rss - anonymous };
}

/** A port free on loopback now (the caller binds it right away; races are retried by callers). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Polls url until it answers `status`; fails early when `child` exits. */
export async function waitForHttp(url, { status = 200, timeoutMs = 30_000, child, what = url } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before answering ${url}:\n  ${child.recentOutput.join('\n  ')}`);
    }
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === status) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not answer ${url} with ${status} within ${timeoutMs / 1000} s (last: ${last})`);
}

/** Runs a script with node and parses the one JSON line it prints. */
export async function runNodeJson(script, args, { timeoutMs = 120_000, nodeArgs = [] } = {}) {
  const child = spawnTracked(process.execPath, [...nodeArgs, script, ...args]);
  let stdout = '';
  child.stdout.on('data', (data) => (stdout += data));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const line = stdout.trim().split('\n').pop();
  if (code !== 0 || !line) {
    throw new Error(`${script} ${args.join(' ')} failed (${code ?? signal}${signal === 'SIGKILL' ? `, killed after ${timeoutMs / 1000} s` : ''}):\n  ${child.recentOutput.join('\n  ')}`);
  }
  return JSON.parse(line);
}
