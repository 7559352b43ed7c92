// Coder target specifications as the operator writes them (--coder.targets), parsed once.
// A static URL is one replica; dns+http://name:port/path is "every address the name has".

export type TargetSpec =
  | { kind: 'static'; url: string }
  | { kind: 'dns'; protocol: 'http:' | 'https:'; hostname: string; port: number; path: string; text: string };

/** Parses a comma-separated target list; every problem is reported, none thrown. */
export function parseTargets(text: string): { targets: TargetSpec[]; problems: string[] } {
  const targets: TargetSpec[] = [];
  const problems: string[] = [];
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const dns = item.startsWith('dns+');
    let url: URL;
    try {
      url = new URL(dns ? item.slice(4) : item);
    } catch {
      problems.push(`"${item}" is not a URL; expected http://host:2112/metrics or dns+http://service:2112/metrics`);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push(`"${item}" must use http or https, not ${url.protocol}`);
      continue;
    }
    if (url.username || url.password) {
      problems.push(`"${url.host}" carries credentials in the URL; Coder's metrics endpoint takes none`);
      continue;
    }
    if (!dns) {
      targets.push({ kind: 'static', url: url.toString() });
      continue;
    }
    if (!url.port) {
      problems.push(`"${item}" needs an explicit port for DNS discovery (Coder's is 2112)`);
      continue;
    }
    targets.push({
      kind: 'dns',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: `${url.pathname}${url.search}`,
      text: item,
    });
  }
  return { targets, problems };
}
