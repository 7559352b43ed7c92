// HTML built by a tagged template that escapes every interpolated value unless it is
// already markup: label values and error messages come from remote systems, so escaping
// is the default and raw markup the explicit exception.

const SAFE = Symbol('safe-html');

/** Markup that is already escaped: only `html` and `raw` make one. */
export interface SafeHtml {
  readonly [SAFE]: true;
  readonly text: string;
}

function safe(text: string): SafeHtml {
  return { [SAFE]: true, text };
}

function isSafe(value: unknown): value is SafeHtml {
  return typeof value === 'object' && value !== null && (value as Partial<SafeHtml>)[SAFE] === true;
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text to HTML, safe inside elements and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => entities[char] as string);
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((item: Interpolation) => render(item)).join('');
  if (isSafe(value)) return value.text;
  return escapeHtml(String(value));
}

/** html`<p>${text}</p>`: strings and numbers are escaped, nested html`` and arrays of it are not. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return safe(out);
}

/** Markup written in this program (a constant stylesheet): never pass remote text here. */
export function raw(trustedMarkup: string): SafeHtml {
  return safe(trustedMarkup);
}
