// Pure helpers of the lists screen, tested in lists.test.ts.

/** An item's code made from its label: what Rust accepts as an item id
 * (lowercase letters, digits, `_` and `-`, at most 40), accents dropped.
 * `Rain poncho` → `rain_poncho`; empty when nothing is left. */
export function itemCode(label: string): string {
  return label
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40)
    .replace(/_+$/, '');
}

/** Sizes typed as one line, `38, 39,40` or `S; M; L`; blanks dropped. A
 * size may hold a space (`3 ans`). */
export function splitSizes(typed: string): string[] {
  return typed
    .split(/[,;]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
