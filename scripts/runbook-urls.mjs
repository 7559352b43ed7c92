// Where the alerts' runbook_url links point: one setting, as the kubernetes-mixin's
// runbookURLPattern. Every runbook_url in alerts/coder-pg-capacity.rules.yml is
// DEFAULT_RUNBOOK_URL_BASE followed by the alert's anchor in docs/runbooks.md (its name
// in lower case, or a per-reason subsection); rebaseRunbookUrls() swaps the base and
// keeps the anchor, comments and everything else of the file as it is.
//
// The default is the monitor's own /runbooks page (src/web/runbooks.ts renders
// docs/runbooks.md) behind the Service of deploy/kubernetes/base: coder-pg-capacity in
// namespace coder, port 9816. Reachable from inside the cluster (or through
// `kubectl -n coder port-forward svc/coder-pg-capacity 9816`); for a link that works
// from a laptop, generate the rules with an Ingress or a copy of the runbooks as the
// base: node scripts/generate-manifests.mjs --runbook-url-base URL ... (see its header).

import YAML from 'yaml';

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

/** Every runbook_url annotation of a parsed rule file, with its alert's name. */
export function runbookUrlsOf(ruleFile) {
  return (ruleFile?.groups ?? []).flatMap((group) =>
    (group.rules ?? []).filter((rule) => rule.alert).map((rule) => ({ alert: rule.alert, url: rule.annotations?.runbook_url })),
  );
}

/**
 * The rule file's text with every runbook_url's base replaced by `base`. Throws when a
 * runbook_url does not start with the default base: the rule file is the one place the
 * links are written, and a stray one would escape the setting.
 */
export function rebaseRunbookUrls(text, base = DEFAULT_RUNBOOK_URL_BASE) {
  checkRunbookUrlBase(base);
  const rewritten = text.replace(/^(\s*runbook_url:[ \t]*)(\S.*?)[ \t]*$/gm, (line, key, url) => {
    if (!url.startsWith(DEFAULT_RUNBOOK_URL_BASE)) {
      throw new Error(`runbook_url ${url} does not start with ${DEFAULT_RUNBOOK_URL_BASE} (scripts/runbook-urls.mjs)`);
    }
    return `${key}${base}${url.slice(DEFAULT_RUNBOOK_URL_BASE.length)}`;
  });
  // Every alert must have come through the rewrite (a quoted or folded value would not).
  for (const { alert, url } of runbookUrlsOf(YAML.parse(rewritten))) {
    if (typeof url !== 'string' || !url.startsWith(base)) throw new Error(`alert ${alert}: runbook_url ${url} was not rebased onto ${base}`);
  }
  return rewritten;
}
