// CPU time spent by a process, or by a whole PostgreSQL cluster, read from /proc. For a
// cluster: the postmaster, every live child (backends, background workers), and the
// children that already exited (the postmaster's cutime/cstime: a backend that served
// one scrape and quit counts too). CPU time, unlike wall time, does not grow when other
// work shares the machine.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/PID/stat after the command name: [state, ppid, ...]. */
function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // exited between the listing and the read
  }
}

export function postmasterPid(dataDir) {
  const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no postmaster pid in ${dataDir}/postmaster.pid: is the benchmark's PostgreSQL running?`);
  return pid;
}

/** Seconds of CPU (user + system) one process has used so far. */
export function processCpuSeconds(pid) {
  const fields = statFields(pid);
  if (!fields) throw new Error(`process ${pid} is gone: it was to be measured`);
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Seconds of CPU (user + system) the cluster under `postmaster` has used so far. */
export function postgresCpuSeconds(postmaster) {
  const own = statFields(postmaster);
  if (!own) throw new Error(`the postmaster (pid ${postmaster}) is gone`);
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields && Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}
