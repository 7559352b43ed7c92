// Checks a PostgreSQL connection URL before anything connects with it. A password with an
// unencoded #, ? or / still parses as a URL, just a different one: postgres://u:47#Xy@db
// becomes host "u", port 47, and the failure surfaces far away as a DNS error that quotes
// part of the password. Every message here names the mistake and never quotes the URL.

const PERCENT_ENCODE =
  'percent-encode special characters in the password: # as %23, ? as %3F, / as %2F, @ as %40, % as %25 (encodeURIComponent does it)';

/** What is wrong with a postgres:// URL, in words that never repeat any part of it. */
export function postgresUrlProblems(text: string): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // "postgres://u:ab/c@db" fails on the port "ab": the password is the likely cause.
    const hint = text.includes('@') ? `; if the password holds special characters, ${PERCENT_ENCODE}` : '';
    return [`not a URL; expected postgres://user:password@host:5432/database${hint}`];
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return [`scheme must be postgres:// or postgresql://, not ${url.protocol}//`];
  }
  // libpq's URLs have no fragment: a # is always a character that should have been encoded.
  if (text.includes('#')) return [`holds an unencoded #, which ends the URL there (PostgreSQL URLs have no fragment; in a password, it makes the user name be taken for the host): ${PERCENT_ENCODE}`];
  // "postgres://u:12?x@db" and "postgres://u:12/x@db" parse with host "u"; the real host
  // is left after an @ in the query or the path. A user= parameter may hold an @ of its own.
  if (!url.username && !url.password && `${url.pathname}${url.search}`.includes('@') && !url.searchParams.has('user')) {
    return [`has an @ after the host (an unencoded ? or / in the password ends the host part early, so the user name is taken for the host): ${PERCENT_ENCODE}`];
  }
  for (const part of [url.username, url.password, url.pathname]) {
    try {
      decodeURIComponent(part);
    } catch {
      return [`holds a % that does not start a percent-encoding (%XX) in the user, password or database: ${PERCENT_ENCODE}`];
    }
  }
  return [];
}
