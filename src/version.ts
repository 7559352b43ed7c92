// The version, from package.json, found relative to this file (src/ in tests, dist/ when built).

import { readFileSync } from 'node:fs';

export const version: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
