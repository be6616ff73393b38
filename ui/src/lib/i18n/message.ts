/** A translated text: one string, or one per plural category. */
export type Message = string | { one: string; other: string };
