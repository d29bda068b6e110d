import { NUL_SYMBOL, storableText, UNSTORABLE_DEFECT, UNSTORABLE_WHAT } from '../common/storable-text';

/** Unknown fields are kept, but a long string there is most likely an image or a feature: not stored. */
export const EXTRA_STRING_LIMIT = 1024;

/** What one record's kept unknown fields may take, counted about as their JSON. Boxes send a few short ones. */
export const EXTRA_MAX_BYTES = 64 * 1024;

const OVER = Symbol('over budget');

/** Where the defects go (the mapper's Defects). */
interface DefectSink {
  add(field: string, code: string, message: string): void;
}

/**
 * Collects a record's unknown fields for `extra` within EXTRA_MAX_BYTES: whole fields are kept in the order sent
 * until the next one would not fit; it and the rest are left out and listed as one defect. Copying stops as soon as
 * the budget is spent, so a field holding a huge array costs no more than the budget. Text no database can hold
 * (NUL, unpaired surrogates) is cleaned in keys and values, and each field that had some is listed as a defect.
 */
export class UnknownFields {
  private left = EXTRA_MAX_BYTES;
  private readonly dropped: string[] = [];
  private readonly cleaned: string[] = [];
  private dirty = false;

  /** The fields of `source` not in `known`, or null if there are none; `at` is where source sits ("" at the top). */
  keep(source: Record<string, unknown>, known: Set<string>, at: string): Record<string, unknown> | null {
    let out: Record<string, unknown> | null = null;
    for (const sent of Object.keys(source)) {
      if (known.has(sent)) continue;
      this.dirty = false;
      const key = this.cleanKey(sent);
      const field = at ? `${at}.${key}` : key;
      if (this.dropped.length > 0) {
        this.dropped.push(field);
        continue;
      }
      const before = this.left;
      this.left -= key.length + 4;
      const copy = this.left < 0 ? OVER : this.copy(source[sent], 0);
      if (copy === OVER) {
        this.left = before;
        this.dropped.push(field);
        continue;
      }
      out ??= {};
      out[key] = copy;
      if (this.dirty) this.cleaned.push(field);
    }
    return out;
  }

  /** One defect per field whose text was cleaned, and one naming the first field left out. */
  reportTo(defects: DefectSink): void {
    for (const field of this.cleaned) {
      defects.add(
        field,
        UNSTORABLE_DEFECT,
        `${field} (an unknown field) contained ${UNSTORABLE_WHAT}: NUL removed (U+2400 in keys), surrogates replaced by U+FFFD`,
      );
    }
    if (this.dropped.length === 0) return;
    const [first] = this.dropped;
    const more = this.dropped.length > 1 ? ` and ${this.dropped.length - 1} more unknown field(s)` : '';
    defects.add(first, 'too_large', `${first}${more} not kept: unknown fields are kept up to ${EXTRA_MAX_BYTES} bytes per record`);
  }

  private copy(value: unknown, depth: number): unknown {
    if (typeof value === 'string') {
      const kept = value.length > EXTRA_STRING_LIMIT ? `[omitted: ${value.length} characters]` : this.cleanText(value);
      this.left -= kept.length + 2;
      return this.left < 0 ? OVER : kept;
    }
    this.left -= 8;
    if (this.left < 0) return OVER;
    // The JSON guard already refused deeper nesting; this keeps the copy bounded wherever it is called from.
    if (value === null || typeof value !== 'object') return value;
    if (depth >= 32) return OVER;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (const v of value) {
        const c = this.copy(v, depth + 1);
        if (c === OVER) return OVER;
        out.push(c);
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      this.left -= k.length + 4;
      const c = this.left < 0 ? OVER : this.copy((value as Record<string, unknown>)[k], depth + 1);
      if (c === OVER) return OVER;
      out[this.cleanKey(k)] = c;
    }
    return out;
  }

  private cleanText(s: string, nul = ''): string {
    const clean = storableText(s, nul);
    if (clean !== s) this.dirty = true;
    return clean;
  }

  /** In keys NUL becomes U+2400: removing it could merge two keys, or turn "__pro\u0000to__" into "__proto__". */
  private cleanKey(k: string): string {
    return this.cleanText(k, NUL_SYMBOL);
  }
}
