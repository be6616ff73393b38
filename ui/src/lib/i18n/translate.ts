// The i18n layer, without state: messages per locale, plural choice,
// {placeholder} filling, writing direction. i18n.svelte.ts holds the
// current locale.
import { en, type Key } from './en';
import { fr } from './fr';
import type { Message } from './message';

export type { Key } from './en';

export const LOCALES = {
  fr: { name: 'Français', messages: fr },
  en: { name: 'English', messages: en as Record<Key, Message> },
} as const;

export type Locale = keyof typeof LOCALES;

export function isLocale(s: string | null | undefined): s is Locale {
  return s === 'fr' || s === 'en';
}

/** Languages written right to left, for the information shown to the people
 * met (Arabic, Farsi, Pashto, Urdu, Hebrew): ready before they are added. */
const RTL = new Set(['ar', 'fa', 'ps', 'ur', 'he']);

export function dirOf(locale: string): 'ltr' | 'rtl' {
  return RTL.has(locale.split('-')[0]?.toLowerCase() ?? '') ? 'rtl' : 'ltr';
}

export type Params = Record<string, string | number>;

/** The text of `key` in `locale`; a plural message chooses by `params.n`. */
export function translate(locale: Locale, key: Key, params: Params = {}): string {
  const message = LOCALES[locale].messages[key];
  let text: string;
  if (typeof message === 'string') {
    text = message;
  } else {
    const n = Number(params.n ?? 0);
    text = new Intl.PluralRules(locale).select(n) === 'one' ? message.one : message.other;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** The {placeholders} a message uses, in all its forms, sorted. */
export function placeholders(message: Message): string[] {
  const texts = typeof message === 'string' ? [message] : [message.one, message.other];
  const names = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/\{(\w+)\}/g)) names.add(m[1] ?? '');
  }
  return [...names].sort();
}
