// Renders kustomize directories the way operators will: `kubectl kustomize` (kubectl
// 1.21 or later embeds kustomize v4+), else a standalone `kustomize build`. Neither is
// an npm package nor in Debian's archive at a usable version (Debian's kubernetes-client
// is kubectl 1.20, whose kustomize v2 knows no components), so a machine without one
// fails here, naming what to install.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export type KubernetesObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
};

export interface Renderer {
  /** e.g. "kubectl kustomize (kustomize v5.5.0)" */
  description: string;
  /** The command that renders a directory to stdout. */
  command(dir: string): [string, ...string[]];
}

/** Major.minor of a kustomize version such as "v5.5.0". */
function kustomizeMajor(version: string): number {
  return Number(/v?(\d+)\./.exec(version)?.[1] ?? 0);
}

export function findRenderer(): Renderer {
  const kubectl = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (kubectl.status === 0) {
    const version = (JSON.parse(kubectl.stdout) as { kustomizeVersion?: string }).kustomizeVersion ?? 'v2 (kubectl before 1.21)';
    if (kustomizeMajor(version) >= 4) return { description: `kubectl kustomize (kustomize ${version})`, command: (dir) => ['kubectl', 'kustomize', dir] };
  }
  const kustomize = spawnSync('kustomize', ['version'], { encoding: 'utf8' });
  if (kustomize.status === 0 && kustomizeMajor(kustomize.stdout.trim()) >= 4) {
    return { description: `kustomize ${kustomize.stdout.trim()}`, command: (dir) => ['kustomize', 'build', dir] };
  }
  throw new Error(
    'no kustomize renderer: install kubectl 1.21 or later (Kubernetes\' apt repository, pkgs.k8s.io, package kubectl) ' +
      'or a kustomize v5 binary on PATH. Debian\'s kubernetes-client is kubectl 1.20 (kustomize v2): too old.',
  );
}

export function parseObjects(text: string): KubernetesObject[] {
  return YAML.parseAllDocuments(text)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
}

export function render(renderer: Renderer, dir: string): KubernetesObject[] {
  const [command, ...args] = renderer.command(dir);
  try {
    return parseObjects(execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
  }
}

/**
 * Renders a throwaway kustomization that composes the given directories as an operator's
 * overlay would (kustomize refuses absolute paths, so they are made relative).
 */
export function renderComposed(renderer: Renderer, parts: { resources?: string[]; components?: string[] }): KubernetesObject[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'coder-pg-capacity-overlay-'));
  try {
    const relative = (list: string[] = []) => list.map((target) => path.relative(dir, target));
    const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: relative(parts.resources), components: relative(parts.components) };
    writeFileSync(path.join(dir, 'kustomization.yaml'), YAML.stringify(kustomization));
    return render(renderer, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
