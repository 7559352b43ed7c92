// A password mounted from a Secret (--postgres.password-file, --pgbouncer.password-file),
// read at every connect so that a rotated Secret takes effect without a restart.

import { readFile } from 'node:fs/promises';

export type PasswordFileRead =
  /** `trimmed`: the file ended in whitespace, which is never part of the password (a newline from `echo`). */
  | { ok: true; password: string; trimmed: boolean }
  /** Why the file could not be read: its error code, for the caller's message. */
  | { ok: false; reason: string };

export async function readPasswordFile(path: string): Promise<PasswordFileRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
  const password = text.replace(/\s+$/, '');
  return { ok: true, password, trimmed: password !== text };
}
