// The runbooks at /runbooks: docs/runbooks.md (shipped in the package) rendered to one
// self-contained HTML page, so that every alert's runbook_url works from the monitor
// itself, without GitHub or the internet (air-gapped clusters). Each heading carries the
// id GitHub would give it, so `#coderpostgresbudgetovercommitted` lands on its section
// and the runbooks' own links between sections resolve. Rendered at the first request,
// then cached: the file does not change while the process runs.
//
// Nothing from the Markdown runs or loads: raw HTML in it is shown as text, links go only
// to http(s), mailto and in-page or relative targets, images become their alt text, and
// the Content-Security-Policy forbids scripts and every outside resource anyway.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Marked, type Tokens } from 'marked';
import { packageRoot } from '../package-root.js';

/** docs/runbooks.md of the package: beside src/ (vitest), dist/ (the package, the image) or dist-dev/ (the demo). */
export const RUNBOOKS_FILE = path.join(packageRoot, 'docs', 'runbooks.md');

const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { color-scheme: light dark; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 62rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.6em 0 .5em; }
h2 { border-top: 1px solid #8884; padding-top: 1em; }
.anchor { margin-left: .4em; text-decoration: none; opacity: .4; }
:target { scroll-margin-top: .5rem; background: #fd04; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { padding: .75rem 1rem; overflow-x: auto; background: #8881; border: 1px solid #8883; border-radius: 4px; }
table { border-collapse: collapse; margin: 1em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #8885; padding: .3em .6em; text-align: left; vertical-align: top; }
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a '-'. */
export function headingAnchor(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Links may leave the page only for http(s) and mailto; in-page and relative targets stay. */
function safeHref(href: string): string | null {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href.trim());
  if (!scheme) return href;
  return ['http', 'https', 'mailto'].includes(scheme[1]!.toLowerCase()) ? href : null;
}

/** The whole page for the Markdown text. */
export function renderRunbooks(markdown: string): string {
  const used = new Map<string, number>();
  const marked = new Marked({
    gfm: true,
    renderer: {
      heading(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, { tokens, depth, text }: Tokens.Heading) {
        // GitHub numbers repeated anchors: x, x-1, x-2 ...
        const base = headingAnchor(text.replace(/`/g, ''));
        const seen = used.get(base) ?? 0;
        used.set(base, seen + 1);
        const id = seen === 0 ? base : `${base}-${seen}`;
        return `<h${depth} id="${escapeHtml(id)}">${this.parser.parseInline(tokens)}<a class="anchor" href="#${escapeHtml(id)}" aria-label="link to this section">#</a></h${depth}>\n`;
      },
      html({ text }: Tokens.HTML | Tokens.Tag) {
        // The generator's markers (<!-- generated:alerts start -->) are for editors, not readers.
        const shown = text.replace(/<!--[\s\S]*?-->/g, '');
        return shown.trim() === '' ? '' : escapeHtml(shown);
      },
      link(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, { href, title, tokens }: Tokens.Link) {
        const inner = this.parser.parseInline(tokens);
        const target = safeHref(href);
        if (target === null) return inner;
        return `<a href="${escapeHtml(target)}"${title ? ` title="${escapeHtml(title)}"` : ''}>${inner}</a>`;
      },
      image({ text }: Tokens.Image) {
        return escapeHtml(text);
      },
    },
  });
  const body = marked.parse(markdown, { async: false });
  const title = /^#\s+(.+)$/m.exec(markdown)?.[1]?.trim() ?? 'Runbooks';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
<footer><a href="./">status page</a></footer>
</main>
</body>
</html>
`;
}

/** GET /runbooks: the rendered runbooks of `file` (default: the shipped docs/runbooks.md). */
export function runbooksHandler(file: string = RUNBOOKS_FILE): RequestHandler {
  let page: Promise<string> | null = null;
  return (_req: Request, res: Response, next: NextFunction) => {
    page ??= readFile(file, 'utf8').then(renderRunbooks);
    page.then(
      (html) => {
        res.set('Content-Security-Policy', CONTENT_SECURITY_POLICY).set('Cache-Control', 'no-cache').type('text/html').send(html);
      },
      (error: NodeJS.ErrnoException) => {
        page = null; // not cached: a later request tries again
        if (error.code === 'ENOENT') {
          res
            .status(404)
            .type('text/plain')
            .send('the runbooks (docs/runbooks.md) are not part of this installation: read them in the coder-pg-capacity package or source\n');
          return;
        }
        next(error);
      },
    );
  };
}
