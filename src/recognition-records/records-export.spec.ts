import { csvCell, CSV_HEADER } from './records-export.service';

describe('CSV cells', () => {
  it('quotes separators, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('陌生人')).toBe('陌生人');
  });

  it('defuses text that a spreadsheet would run as a formula', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('+A1')).toBe("'+A1");
    expect(csvCell("-cmd|' /C calc'!A0")).toBe(`'-cmd|' /C calc'!A0`);
    expect(csvCell('\t=1')).toBe("'\t=1");
  });

  it('keeps text that a spreadsheet reads as a plain number as it is', () => {
    for (const n of ['-5', '+1', '-0.25', '+1.5e3', '-.5', '42']) expect(csvCell(n)).toBe(n);
  });

  it('writes numbers, booleans and nulls plainly', () => {
    expect(csvCell(-0.5)).toBe('-0.5');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(null)).toBe('');
  });

  it('has no biometric column', () => {
    expect(CSV_HEADER).not.toMatch(/image|feature|landmark|attr|extra/);
  });
});
