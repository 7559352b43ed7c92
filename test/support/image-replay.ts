// Replays one Dockerfile stage on this machine, where no container engine runs: a temp
// directory stands for the image's root, COPY copies into it, RUN runs each command with
// the stage's ENV in its WORKDIR, and ENTRYPOINT + CMD become a command to start as the
// stage's USER on a read-only root filesystem (a private mount namespace). Needs root
// and util-linux (unshare, setpriv), as every Debian machine has.

import { execFile, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { copyParts, execForm, stageArgs, substitute, type Dockerfile, type Stage } from './dockerfile.js';

const run = promisify(execFile);

export interface ReplayedStage {
  /** The temp directory standing for the image's `/`. */
  root: string;
  /** Host path of the stage's WORKDIR. */
  workdir: string;
  /** ENV of the stage. */
  env: Record<string, string>;
  /** USER of the stage, numeric. */
  user: { uid: number; gid: number };
  /** ENTRYPOINT + CMD, image paths mapped to host paths. */
  command: string[];
  /** RUN commands as executed, for failure messages. */
  ran: string[];
  /** Image path -> host path. */
  hostPath(imagePath: string): string;
  remove(): Promise<void>;
}

export interface ReplayOptions {
  file: Dockerfile;
  stage: Stage;
  /** Host path of a build-context source (`COPY src dest`). */
  contextSource(source: string): string;
  /** Host path of another stage's file (`COPY --from=stage /path dest`). */
  stageSource(stage: string, imagePath: string): string;
}

export async function replayStage({ file, stage, contextSource, stageSource }: ReplayOptions): Promise<ReplayedStage> {
  const root = await mkdtemp(path.join(tmpdir(), 'coder-pg-capacity-image-'));
  const hostPath = (imagePath: string) => path.join(root, imagePath);
  const args = stageArgs(file, stage);
  let workdir = '/';
  const env: Record<string, string> = {};
  let user: { uid: number; gid: number } | null = null;
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  const ran: string[] = [];
  try {
    for (const instruction of stage.instructions) {
      const text = substitute(instruction.text, args);
      switch (instruction.keyword) {
        case 'ARG':
        case 'LABEL':
        case 'EXPOSE':
          break;
        case 'WORKDIR':
          workdir = path.posix.resolve(workdir, text);
          await mkdir(hostPath(workdir), { recursive: true });
          break;
        case 'ENV': {
          const [name, value] = text.split('=', 2) as [string, string?];
          if (value === undefined) throw new Error(`line ${instruction.line}: write ENV NAME=value`);
          env[name] = value;
          break;
        }
        case 'COPY': {
          const { from, sources, destination } = copyParts({ ...instruction, text });
          const target = path.posix.resolve(workdir, destination);
          for (const source of sources) {
            const origin = from === null ? contextSource(source) : stageSource(from, source);
            // Docker: a directory's contents go into the destination; a file into it when it ends in '/'.
            const into = destination.endsWith('/') ? path.posix.join(target, path.posix.basename(source)) : target;
            await cp(origin, hostPath(into), { recursive: true });
          }
          break;
        }
        case 'RUN':
          ran.push(text);
          try {
            // A clean environment, as in a build: none of this machine's npm_config_* (an
            // `npm cache clean` must not reach the host's cache), HOME is the image root's.
            await run('sh', ['-c', text], {
              cwd: hostPath(workdir),
              env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: hostPath('/root'), ...env },
              maxBuffer: 16 * 1024 * 1024,
              timeout: 300_000,
            });
          } catch (error) {
            const failure = error as Error & { stderr?: string };
            throw new Error(`RUN ${text} (line ${instruction.line}) failed: ${failure.stderr?.slice(-2000) ?? failure.message}`);
          }
          break;
        case 'USER': {
          const match = /^(\d+)(?::(\d+))?$/.exec(text);
          if (!match) throw new Error(`line ${instruction.line}: USER must be numeric (uid or uid:gid), got ${text}`);
          user = { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) };
          break;
        }
        case 'ENTRYPOINT':
          entrypoint = execForm(instruction);
          break;
        case 'CMD':
          cmd = execForm(instruction);
          break;
        default:
          throw new Error(`line ${instruction.line}: the replay does not know ${instruction.keyword}; extend test/support/image-replay.ts`);
      }
    }
    if (user === null) throw new Error(`stage ${stage.name ?? stage.from} sets no USER: it would run as root`);
    // Nothing in the image belongs to the process's user: it can read, not write.
    await run('chown', ['-R', '0:0', root]);
    await run('chmod', ['-R', 'a+rX,go-w', root]);
    const mapped = [...entrypoint, ...cmd].map((part) => (part.startsWith(`${workdir}/`) ? hostPath(part) : part));
    return { root, workdir: hostPath(workdir), env, user, command: mapped, ran, hostPath, remove: () => rm(root, { recursive: true, force: true }) };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Wraps a command so that it runs as `user` with the whole root filesystem read-only, as
 * under Kubernetes' readOnlyRootFilesystem: a private mount namespace remounts `/`.
 */
export function readOnlyAs(user: { uid: number; gid: number }, command: string[]): string[] {
  const script = 'uid=$0 gid=$1; shift; mount --make-rprivate / && mount -o remount,bind,ro / && exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs -- "$@"';
  return ['unshare', '--mount', '--', 'sh', '-c', script, String(user.uid), String(user.gid), ...command];
}

/** Fails naming the package when this machine cannot run the replay's wrapper. */
export function assertReplayTools(): void {
  if (process.getuid?.() !== 0) throw new Error('the image replay runs as root (unshare, setpriv, chown): run the tests as root, as CI does');
  for (const tool of ['unshare', 'setpriv', 'mount']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (found.status !== 0) throw new Error(`${tool} is missing: apt-get install -y util-linux mount`);
  }
}

/** Starts the replayed ENTRYPOINT + CMD (+ args, as Kubernetes' args would follow) read-only as its USER. */
export function startReplayed(image: ReplayedStage, args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  const [command, ...rest] = readOnlyAs(image.user, [...image.command, ...args]) as [string, ...string[]];
  return spawn(command, rest, {
    cwd: image.workdir,
    // A container's environment: the image's ENV plus what the pod sets, nothing of ours.
    // HOME=/ is what a UID without a passwd entry gets in a container.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/', ...image.env, ...env },
  });
}
