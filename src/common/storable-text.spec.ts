import { hasUnstorableText, NUL_SYMBOL, storableText } from './storable-text';

describe('storableText', () => {
  it('removes NUL, or replaces it with the given symbol', () => {
    expect(storableText('a\u0000b\u0000')).toBe('ab');
    expect(storableText('cam\u00001', NUL_SYMBOL)).toBe('cam\u24001');
  });

  it('replaces unpaired surrogates with U+FFFD and keeps paired ones', () => {
    expect(storableText('\ud800x\udc00')).toBe('\ufffdx\ufffd');
    expect(storableText('end\ud83d')).toBe('end\ufffd');
    expect(storableText('\udc00\ud800')).toBe('\ufffd\ufffd');
    expect(storableText('ok 😀 王芳')).toBe('ok 😀 王芳');
  });

  it('returns clean text unchanged and says whether text needs cleaning', () => {
    const clean = 'Zoë 😀';
    expect(storableText(clean)).toBe(clean);
    expect(hasUnstorableText(clean)).toBe(false);
    expect(hasUnstorableText('a\u0000')).toBe(true);
    expect(hasUnstorableText('\ud83d')).toBe(true);
  });
});
