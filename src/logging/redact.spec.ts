import fc from 'fast-check';
import { maskLicenseKey } from './redact';

describe('maskLicenseKey', () => {
  it('never contains the whole key, shows at most a third of it, and tells keys apart', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 64 }), (a, b) => {
        const m = maskLicenseKey(a);
        if (a.length > 8) expect(m.includes(a)).toBe(false); // shorter strings could occur in the hash fragment by chance
        expect(m.split('…')[0].length).toBeLessThanOrEqual(Math.floor(a.length / 3));
        if (a !== b) expect(maskLicenseKey(b)).not.toBe(m);
      }),
    );
  });

  it('keeps a recognisable prefix of a real key', () => {
    expect(maskLicenseKey('NAAXWN0001202101011200')).toMatch(/^NAAXWN…[0-9a-f]{8}$/);
    expect(maskLicenseKey(undefined)).toBe('unknown');
  });
});
