// Where the package's own files are (package.json, docs/runbooks.md): the nearest folder
// above this module that holds our package.json. Found by walking up rather than by a fixed
// "../", because the module runs from src/ (tests), dist/ (the package and the image) and
// dist-dev/src/ (the demo, built from a checkout).

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'coder-pg-capacity') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json of coder-pg-capacity above ${start}: the installation is incomplete`);
  }
}

export const packageRoot: string = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
