// The current locale, as reactive state: `t()` called in a template
// re-renders when the volunteer switches language.
import { dirOf, isLocale, translate, type Key, type Locale, type Params } from './translate';

const STORAGE_KEY = 'maraude.locale';

function initial(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (isLocale(saved)) return saved;
  const browser = globalThis.navigator?.language?.slice(0, 2);
  return browser === 'en' ? 'en' : 'fr';
}

let current = $state<Locale>(initial());

function apply(locale: Locale) {
  document.documentElement.lang = locale;
  document.documentElement.dir = dirOf(locale);
}

export const i18n = {
  get locale(): Locale {
    return current;
  },
  set locale(locale: Locale) {
    current = locale;
    globalThis.localStorage?.setItem(STORAGE_KEY, locale);
    apply(locale);
  },
  /** Sets lang and dir on <html> at start. */
  start() {
    apply(current);
  },
};

export function t(key: Key, params?: Params): string {
  return translate(current, key, params);
}
