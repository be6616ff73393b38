// Every word the screens show comes from the dictionaries: a word typed
// into a component's markup (or an aria-label, placeholder, title or alt)
// would be English on the French screen, or French on the English one.
import { describe, expect, it } from 'vitest';

/** Words that are the same in every language. */
const NEUTRAL = new Set(['CSV', 'HH:MM', 'https://sync.example.org']);

/** Every component's source, by path. */
const components = import.meta.glob('/src/**/*.svelte', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

/** The literal texts of a component's markup: between tags, outside
 * `{…}` expressions (depth counted, so template literals inside them are
 * skipped too), and the literal values of the attributes people read. */
export function literals(source: string): string[] {
  const markup = source
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '');
  const out: string[] = [];
  for (const m of markup.matchAll(/\b(?:aria-label|placeholder|title|alt)="([^"{]*)"/g)) out.push(m[1] ?? '');
  let depth = 0;
  let inTag = false;
  let quote = '';
  let text = '';
  const flush = () => {
    out.push(text.trim());
    text = '';
  };
  for (const c of markup) {
    if (depth > 0) {
      if (c === '{') depth++;
      else if (c === '}') depth--;
    } else if (c === '{') {
      depth = 1;
      text += ' ';
    } else if (inTag) {
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') inTag = false;
    } else if (c === '<') {
      flush();
      inTag = true;
    } else text += c;
  }
  flush();
  return out.filter((t) => /\p{L}/u.test(t) && !NEUTRAL.has(t));
}

describe('the screens', () => {
  it('show no word that is not in the dictionaries', () => {
    const found: string[] = [];
    for (const [path, source] of Object.entries(components)) {
      for (const text of literals(source)) found.push(`${path}: ${text}`);
    }
    expect(Object.keys(components).length).toBeGreaterThan(20);
    expect(found).toEqual([]);
  });

  it('are read as a volunteer would see them (the check finds what it should)', () => {
    expect(literals('<button aria-label="Close">{t(\'x\')}</button>')).toEqual(['Close']);
    expect(literals('<p>Saved {n} entries</p>').map((t) => t.replace(/\s+/g, ' '))).toEqual(['Saved entries']);
    expect(literals('<p>{t(`kind.${k}`)} · {n}</p><td>CSV</td>')).toEqual([]);
  });
});
