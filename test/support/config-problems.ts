// The problems parseConfig reports for some input; fails the test when it reports none.

import { ConfigError, parseConfig } from '../../src/config/parse-config.js';

export function problemsOf(args: string[], env: Record<string, string> = {}): string[] {
  try {
    parseConfig(args, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
