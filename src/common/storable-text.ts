/**
 * Text a database cannot hold: NUL (PostgreSQL refuses it in text, "invalid byte sequence for encoding UTF8:
 * 0x00") and unpaired UTF-16 surrogates (no UTF-8 form: each driver would replace or mangle them its own way).
 * Both are cleaned at the box edge, the same way on every database, so what is stored and served is the same.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** Stands in for NUL in identifying fields: keeps "cam\u00001" apart from "cam1" and shows where it was. */
export const NUL_SYMBOL = '\u2400';
export const REPLACEMENT_CHARACTER = '\ufffd';

export function hasUnstorableText(s: string): boolean {
  return UNSTORABLE.test(s);
}

/**
 * NUL removed (or replaced by `nul`), unpaired surrogates replaced by U+FFFD. Deterministic, so a retried
 * record is cleaned to the same values and still deduplicated.
 */
export function storableText(s: string, nul = ''): string {
  if (!UNSTORABLE.test(s)) return s;
  return s.replace(UNSTORABLE_ALL, (c) => (c === '\u0000' ? nul : REPLACEMENT_CHARACTER));
}

/** Defect code and wording for text cleaned by storableText. */
export const UNSTORABLE_DEFECT = 'unstorable_characters';
export const UNSTORABLE_WHAT = 'NUL characters or unpaired UTF-16 surrogates, which no database stores as text';
