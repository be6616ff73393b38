import { describe, expect, it } from 'vitest';
import { en } from './en';
import { fr } from './fr';
import { dirOf, LOCALES, placeholders, translate, type Key } from './translate';

describe('the i18n layer', () => {
  it('has the same keys in French and English', () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
  });

  it('uses the same {placeholders} and plural forms in every language', () => {
    for (const key of Object.keys(en) as Key[]) {
      const english = en[key];
      const french = fr[key];
      expect(placeholders(french), key).toEqual(placeholders(english));
      expect(typeof french, key).toEqual(typeof english);
    }
  });

  it('leaves no text empty', () => {
    for (const { messages } of Object.values(LOCALES)) {
      for (const [key, message] of Object.entries(messages)) {
        const texts = typeof message === 'string' ? [message] : [message.one, message.other];
        for (const text of texts) expect(text.trim(), key).not.toBe('');
      }
    }
  });

  it('fills placeholders and chooses the plural form of each language', () => {
    expect(translate('en', 'entry.headcount', { n: 1 })).toBe('1 person met');
    expect(translate('en', 'entry.headcount', { n: 0 })).toBe('0 people met');
    // French counts 0 and 1 as singular.
    expect(translate('fr', 'entry.headcount', { n: 0 })).toBe('0 personne rencontrée');
    expect(translate('fr', 'entry.headcount', { n: 70 })).toBe('70 personnes rencontrées');
    expect(translate('fr', 'quick.logged_at', { n: 1, item: 'Couverture', place: 'Gare' })).toBe(
      '+1 Couverture · Gare',
    );
  });

  it('writes Arabic, Farsi and Pashto right to left, French and English left to right', () => {
    expect(dirOf('ar')).toBe('rtl');
    expect(dirOf('fa-IR')).toBe('rtl');
    expect(dirOf('ps')).toBe('rtl');
    expect(dirOf('fr')).toBe('ltr');
    expect(dirOf('en')).toBe('ltr');
  });
});
