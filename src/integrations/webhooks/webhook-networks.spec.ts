import {
  DEFAULT_WEBHOOK_ALLOWED_NETWORKS,
  guardedLookup,
  networkAllows,
  parseNetworkRules,
  WebhookAddressRefused,
} from './webhook-networks';

describe('WEBHOOK_ALLOWED_NETWORKS', () => {
  const defaults = parseNetworkRules(DEFAULT_WEBHOOK_ALLOWED_NETWORKS);

  it.each([
    '169.254.169.254',
    '169.254.0.1',
    'fe80::1',
    'fd00:ec2::254',
    '100.100.100.200',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '0:0:0:0:0:ffff:a9fe:a9fe',
  ])('refuses link-local and metadata address %s by default', (a) => expect(networkAllows(defaults, a)).toBe(false));

  it.each(['127.0.0.1', '::1', '10.1.2.3', '192.168.0.10', '172.16.5.5', '100.64.0.1', '93.184.216.34', '2001:db8::1', 'fd00::1'])(
    'allows %s by default (loopback, private and public networks)',
    (a) => expect(networkAllows(defaults, a)).toBe(true),
  );

  it('lets the first matching entry decide and refuses what no entry holds', () => {
    const rules = parseNetworkRules('!10.0.0.5, 10.0.0.0/8');
    expect(networkAllows(rules, '10.0.0.5')).toBe(false);
    expect(networkAllows(rules, '10.0.0.6')).toBe(true);
    expect(networkAllows(rules, '127.0.0.1')).toBe(false);
    expect(networkAllows(rules, '::1')).toBe(false);
  });

  it.each(['', 'nonsense', '10.0.0.0/33', '!', '10.0.0.0/8,fe80::/200'])('rejects the setting %p', (spec) => {
    expect(() => parseNetworkRules(spec)).toThrow();
  });

  it('hands a connecting socket only allowed addresses of a name, or refuses it', async () => {
    const lookup = (spec: string, all: boolean) =>
      new Promise<{ err: Error | null; address: unknown }>((resolve) =>
        guardedLookup(parseNetworkRules(spec))('localhost', { all } as never, (err, address) => resolve({ err, address })),
      );
    const allowed = await lookup('127.0.0.0/8', true);
    expect(allowed.err).toBeNull();
    expect(allowed.address).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect((await lookup('127.0.0.0/8', false)).address).toBe('127.0.0.1');
    const refused = await lookup('!127.0.0.0/8,!::1,0.0.0.0/0,::/0', false);
    expect(refused.err).toBeInstanceOf(WebhookAddressRefused);
    expect(refused.err!.message).toMatch(/^localhost \(.*127\.0\.0\.1.*\) is outside WEBHOOK_ALLOWED_NETWORKS$/);
  });
});
