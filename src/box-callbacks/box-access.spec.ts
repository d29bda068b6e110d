import { addressAllowed, callbackTokenMatches, generateCallbackToken, hashCallbackToken, parseNetworks } from './box-access';

describe('callback tokens', () => {
  it('match only the exact token, by hash', () => {
    const token = generateCallbackToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const hash = hashCallbackToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(callbackTokenMatches(token, hash)).toBe(true);
    expect(callbackTokenMatches(`${token}x`, hash)).toBe(false);
    expect(callbackTokenMatches(token.slice(1), hash)).toBe(false);
    expect(callbackTokenMatches('', hash)).toBe(false);
    expect(callbackTokenMatches(token, 'not-hex')).toBe(false);
  });

  it('are different every time', () => {
    expect(generateCallbackToken()).not.toBe(generateCallbackToken());
  });
});

describe('allowed networks', () => {
  it('normalises CIDRs and single addresses', () => {
    expect(parseNetworks(['10.0.0.0/8', ' 192.168.1.7 ', 'fd00::/8'])).toEqual(['10.0.0.0/8', '192.168.1.7/32', 'fd00::/8']);
  });

  it.each(['10.0.0.0/33', '10.0.0/8', 'example.com', '::1/129', '1.2.3.4/x'])('rejects %s', (cidr) => {
    expect(() => parseNetworks([cidr])).toThrow();
  });

  it.each([
    ['10.1.2.3', ['10.0.0.0/8'], true],
    ['11.1.2.3', ['10.0.0.0/8'], false],
    ['192.168.1.7', ['10.0.0.0/8', '192.168.1.7/32'], true],
    ['192.168.1.8', ['192.168.1.7/32'], false],
    ['::1', ['::1/128'], true],
    ['fd00::5', ['fd00::/8'], true],
    ['127.0.0.1', ['::1/128'], false],
    [null, ['0.0.0.0/0'], false],
    ['garbage', ['0.0.0.0/0'], false],
  ])('%s in %j → %s', (address, networks, allowed) => {
    expect(addressAllowed(address, networks)).toBe(allowed);
  });
});
