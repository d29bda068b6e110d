import fc from 'fast-check';
import { BASE64_CHUNK_CHARS } from '../../src/images/image-decoding';

/** Decoded sizes whose base64 ends just around the decoder's chunk size, twice it, and V8's 128 K-character line. */
const CHUNK_BYTES = (BASE64_CHUNK_CHARS / 4) * 3;
const EDGE_SIZES = [CHUNK_BYTES, 2 * CHUNK_BYTES, (131072 / 4) * 3].flatMap((n) => [n - 3, n - 2, n - 1, n, n + 1, n + 2, n + 3]);

/** Deterministic filler, so a failing case replays from its seed. */
function filler(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A file of one of the kinds the sniffer tells apart, `size` bytes long (at least 12). */
function file(kind: 'jpeg' | 'png' | 'truncated' | 'other', size: number, seed: number): Buffer {
  const bytes = filler(size, seed);
  if (kind === 'jpeg' || kind === 'truncated') {
    bytes.set([0xff, 0xd8, 0xff, 0xe0]);
    if (kind === 'jpeg') bytes.set([0xff, 0xd9], size - 2);
    else bytes.fill(0, Math.max(4, size - 64)); // no end-of-image marker in the tail the sniffer reads
  } else if (kind === 'png') {
    bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    bytes.write('IEND\xaeB`\x82', size - 8, 'latin1');
  } else bytes[0] = 0x47;
  return bytes;
}

type Edit = { at: number; near: 'anywhere' | 'chunk' | 'end'; op: 'insert' | 'replace' | 'delete'; char: string };

function applyEdit(text: string, { at, near, op, char }: Edit): string {
  const base = near === 'chunk' ? BASE64_CHUNK_CHARS * (1 + (at % 2)) - 4 + (at % 8) : near === 'end' ? text.length - 1 - (at % 4) : at;
  const i = Math.max(0, Math.min(text.length - 1, base % Math.max(1, text.length)));
  if (op === 'insert') return text.slice(0, i) + char + text.slice(i);
  if (op === 'replace') return text.slice(0, i) + char + text.slice(i + 1);
  return text.slice(0, i) + text.slice(i + 1);
}

/**
 * Base64 texts as boxes send them and as they go wrong: JPEG, PNG, truncated and unknown files of sizes on both sides
 * of the chunk and large-object boundaries, with or without a data: URI prefix (valid or not), and with edits (URL-safe
 * characters, padding in the middle or in excess, characters outside the alphabet, a character too many or too few).
 * All printable ASCII without a quote or a backslash, so that the JSON body parser lifts them when they are long.
 */
export const base64Variant: fc.Arbitrary<string> = fc
  .record({
    kind: fc.constantFrom('jpeg' as const, 'png' as const, 'truncated' as const, 'other' as const),
    size: fc.oneof(fc.constantFrom(...EDGE_SIZES), fc.integer({ min: 12, max: 140_000 }), fc.integer({ min: 700, max: 1000 })),
    seed: fc.integer(),
    prefix: fc.constantFrom(
      '',
      '',
      'data:image/jpeg;base64,',
      'data:;base64,',
      'data:image/png;name=a.png;base64,',
      'DATA:image/jpeg;base64,',
      'data:image/jpeg,',
      // 128 characters, the most decodeBase64Strict reads for the prefix, and one more
      `data:image/jpeg;${'x'.repeat(104)};base64,`,
      `data:image/jpeg;${'x'.repeat(105)};base64,`,
    ),
    edits: fc.array(
      fc.record({
        at: fc.nat(),
        near: fc.constantFrom('anywhere' as const, 'chunk' as const, 'end' as const),
        op: fc.constantFrom('insert' as const, 'replace' as const, 'delete' as const),
        char: fc.constantFrom('-', '_', '=', '==', '*', ' ', '.', '~', 'A', '+', '/'),
      }),
      { maxLength: 2 },
    ),
  })
  .map(({ kind, size, seed, prefix, edits }) => prefix + edits.reduce(applyEdit, file(kind, size, seed).toString('base64')));
