import fc from 'fast-check';
import { maskLicenseKey, redactUrl } from './redact';

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

describe('redactUrl', () => {
  it('keeps the path and parameter names, never a query value', () => {
    expect(redactUrl('/records?api_key=SECRET123&box=NAAXWN0001&limit=10')).toBe('/records?api_key=…&box=…&limit=…');
    expect(redactUrl('/records')).toBe('/records');
    expect(redactUrl('/records?SECRET123')).toBe('/records?…');
    expect(redactUrl('/records?a%3DSECRET=1&&')).toBe('/records?…');
  });

  it('blanks a callback secret in the box push path', () => {
    expect(redactUrl('/box-callbacks/s3cr3t-token/recognition-records?x=1')).toBe('/box-callbacks/…/recognition-records?x=…');
    expect(redactUrl('/box-callbacks/recognition-records')).toBe('/box-callbacks/recognition-records');
  });

  it('never contains a value given in the query', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true }), fc.string({ minLength: 6 }), (base, value) => {
        const path = new URL(base).pathname;
        const url = `${path}?k=${encodeURIComponent(value)}&${encodeURIComponent(value)}`;
        expect(redactUrl(url)).not.toContain(encodeURIComponent(value));
      }),
    );
  });
});
