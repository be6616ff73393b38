import { describe, expect, it } from 'vitest';
import { itemCode, splitSizes } from './lists';

describe('itemCode', () => {
  it('makes an id Rust accepts from a label', () => {
    expect(itemCode('Rain poncho')).toBe('rain_poncho');
    expect(itemCode('  Chaussettes (laine)! ')).toBe('chaussettes_laine');
    expect(itemCode('Thé / café')).toBe('the_cafe');
    expect(itemCode('???')).toBe('');
    const long = itemCode('a very long label for an item that nobody would type in the field');
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long.endsWith('_')).toBe(false);
  });
});

describe('splitSizes', () => {
  it('reads commas and semicolons, keeps a size with a space', () => {
    expect(splitSizes('38, 39,40')).toEqual(['38', '39', '40']);
    expect(splitSizes('S; M;; L,XL')).toEqual(['S', 'M', 'L', 'XL']);
    expect(splitSizes('3 ans, 4 ans')).toEqual(['3 ans', '4 ans']);
    expect(splitSizes('  , ')).toEqual([]);
  });
});
