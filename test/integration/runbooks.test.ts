// The runbooks as an on-call engineer opens them at 3 a.m.: the monitor's own /runbooks
// page, over real HTTP, has a section for every alert of the shipped rules at the anchor
// its runbook_url ends in, runs nothing and loads nothing from outside.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RUNBOOK_URL_BASE } from '../../scripts/runbook-urls.mjs';
import type { CapacityMetrics } from '../../src/exposition/metrics.js';
import { blindReasons } from '../../src/model/blind.js';
import { renderRunbooks, runbooksHandler } from '../../src/web/runbooks.js';
import { createApp, listen } from '../../src/web/server.js';
import { captureLogs } from '../support/logs.js';

const repo = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { files: string[]; dependencies: Record<string, string> };

interface RuleFile {
  groups: { rules: { alert?: string; annotations?: Record<string, string> }[] }[];
}

/** Every anchor the shipped rules link to (the per-reason link once per blind reason). */
function linkedAnchors(): { alert: string; anchor: string }[] {
  const rules = parse(readFileSync(path.join(repo, 'alerts/coder-pg-capacity.rules.yml'), 'utf8')) as RuleFile;
  return rules.groups.flatMap((group) =>
    group.rules
      .filter((rule) => rule.alert)
      .flatMap((rule) => {
        const anchor = (rule.annotations?.runbook_url ?? '').slice(DEFAULT_RUNBOOK_URL_BASE.length);
        const anchors = anchor.includes('{{ $labels.reason }}') ? blindReasons.map((reason) => anchor.replace('{{ $labels.reason }}', reason)) : [anchor];
        return anchors.map((a) => ({ alert: rule.alert!, anchor: a }));
      }),
  );
}

function ids(html: string): Set<string> {
  return new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]!));
}

describe('GET /runbooks on the daemon', () => {
  let server: Server;
  let url: string;
  const logs = captureLogs();

  beforeAll(async () => {
    const metrics = { registry: { contentType: 'text/plain', metrics: async () => '' }, record: () => undefined } as unknown as CapacityMetrics;
    const app = createApp({ poller: { latest: null, lastPostgresSuccessAt: null }, metrics, logger: logs.logger, version: 'test' });
    server = await listen(app, '127.0.0.1', 0);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers before the first poll, as HTML with a policy that forbids scripts and outside resources', async () => {
    const response = await fetch(`${url}/runbooks`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("style-src 'unsafe-inline'");
    expect(policy).not.toMatch(/script-src/);
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link rel="stylesheet"|<img|<iframe/i);
  });

  it('has a heading at the anchor of every runbook_url in the shipped rules, each blind reason included', async () => {
    const html = await (await fetch(`${url}/runbooks`)).text();
    const found = ids(html);
    const linked = linkedAnchors();
    expect(linked.length).toBeGreaterThan(15);
    for (const { alert, anchor } of linked) {
      expect(found.has(anchor), `${alert}: no id="${anchor}" on /runbooks`).toBe(true);
      expect(html).toMatch(new RegExp(`<h[1-6] id="${anchor}">`));
    }
    // The sections link to each other by anchor too (the fixes, other alerts).
    for (const [, target] of html.matchAll(/href="#([^"]+)"/g)) expect(found.has(target!), `#${target}`).toBe(true);
  });

  it('renders the same page at every request (rendered once) and answers HEAD', async () => {
    const first = await (await fetch(`${url}/runbooks`)).text();
    const second = await (await fetch(`${url}/runbooks`)).text();
    expect(second).toBe(first);
    expect((await fetch(`${url}/runbooks`, { method: 'HEAD' })).status).toBe(200);
  });
});

describe('the runbooks renderer', () => {
  it('shows raw HTML as text, drops script links and images, and numbers repeated anchors as GitHub does', () => {
    const html = renderRunbooks(
      [
        '# Title',
        '## Same',
        '## Same',
        '<script>alert(1)</script>',
        '',
        'Text <img src=x onerror=alert(1)> [bad](javascript:alert(1)) [ok](https://example.com/a?b=1&c=2) ![pic](https://example.com/p.png)',
      ].join('\n'),
    );
    expect(html).not.toMatch(/<script|<img|javascript:/i);
    expect(html).toContain('&#60;script&#62;');
    expect(html).toContain('<a href="https://example.com/a?b=1&#38;c=2">ok</a>');
    expect(html).toMatch(/<h2 id="same">/);
    expect(html).toMatch(/<h2 id="same-1">/);
  });

  it("leaves out the generator's markers around a table, which are for editors", () => {
    const html = renderRunbooks(['# Title', '', '<!-- generated:alerts start -->', '| a | b |', '| --- | --- |', '| 1 | 2 |', '<!-- generated:alerts end -->'].join('\n'));
    expect(html).not.toContain('generated:');
    expect(html).toContain('<td>1</td>');
  });

  it('answers 404 with a plain sentence when the runbooks are not installed', async () => {
    const handler = runbooksHandler(path.join(repo, 'does-not-exist.md'));
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      let status = 200;
      const res = {
        status(code: number) {
          status = code;
          return res;
        },
        type: () => res,
        set: () => res,
        send: (body: string) => resolve({ status, body }),
      };
      handler({} as never, res as never, reject);
    });
    expect(answer.status).toBe(404);
    expect(answer.body).toMatch(/not part of this installation/);
  });

  it('is shipped: docs/runbooks.md is in the package files (docs/*.md) and marked a runtime dependency', () => {
    expect(pkg.files).toContain('docs/*.md');
    expect(pkg.dependencies).toHaveProperty('marked');
  });
});
