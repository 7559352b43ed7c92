// Secrets never leave the process: passwords and URL credentials are masked in every
// message, log line and API answer. Anything that may hold a URL goes through here.

const MASK = '***';

/** postgres://user:secret@host/db -> postgres://user:***@host/db; other text unchanged. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]*)@/gi, (_all, scheme: string, user: string) => `${scheme}${user}:${MASK}@`);
}

/** Removes every occurrence of the given secrets (e.g. a password read from a file) from a message. */
export function redactSecrets(text: string, secrets: (string | null | undefined)[]): string {
  let result = redactUrl(text);
  for (const secret of secrets) {
    if (secret && secret.length >= 3) result = result.split(secret).join(MASK);
  }
  return result;
}
