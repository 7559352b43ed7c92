// What the figures were measured on: they mean little without it.

import { readFileSync } from 'node:fs';
import os from 'node:os';

export function cpuModel() {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1].trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

export function loadAverage() {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' / ');
}

export function describeMachine() {
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 1e9),
    node: process.versions.node,
  };
}
