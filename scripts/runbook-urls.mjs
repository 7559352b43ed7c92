// Where the alerts' runbook_url links point: one setting, as the kubernetes-mixin's
// runbookURLPattern. Every runbook_url of the generated rules is a base followed by the
// alert's anchor in docs/runbooks.md (its name in lower case, or a per-reason subsection).
//
// The default is the monitor's own /runbooks page (src/web/runbooks.ts renders
// docs/runbooks.md) behind the Service of deploy/kubernetes/base: coder-pg-capacity in
// namespace coder, port 9816. Reachable from inside the cluster (or through
// `kubectl -n coder port-forward svc/coder-pg-capacity 9816`); for a link that works
// from a laptop, generate the rules with an Ingress or a copy of the runbooks as the
// base: npm run generate -- --runbook-url-base URL --rules-out FILE (scripts/generate.ts).
// Plain JavaScript: the dashboard, the generator and the tests share it.

export const DEFAULT_RUNBOOK_URL_BASE = 'http://coder-pg-capacity.coder.svc:9816/runbooks#';

/** Throws unless `base` is an absolute http(s) URL ending in '#' (the anchor is appended as is). */
export function checkRunbookUrlBase(base) {
  let url;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`--runbook-url-base ${JSON.stringify(base)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--runbook-url-base ${JSON.stringify(base)}: expected http or https`);
  if (/\s/.test(base)) throw new Error(`--runbook-url-base ${JSON.stringify(base)} contains white space`);
  if (!base.endsWith('#')) {
    throw new Error(`--runbook-url-base ${JSON.stringify(base)} must end with '#': the alert's anchor is appended to it (e.g. ${DEFAULT_RUNBOOK_URL_BASE})`);
  }
  return base;
}
