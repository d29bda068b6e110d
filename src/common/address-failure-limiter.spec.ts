import { AddressFailureLimiter } from './address-failure-limiter';

describe('AddressFailureLimiter', () => {
  let clock = 0;
  const now = () => clock;

  beforeEach(() => (clock = 1_000_000));

  it('blocks an address once it reaches the limit, until its window ends, and no other address', () => {
    const limiter = new AddressFailureLimiter(3, 60_000, now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterSeconds('203.0.113.1')).toBe(0);
      limiter.recordFailure('203.0.113.1');
    }
    expect(limiter.retryAfterSeconds('203.0.113.1')).toBe(60);
    expect(limiter.retryAfterSeconds('203.0.113.2')).toBe(0);
    clock += 59_500;
    expect(limiter.retryAfterSeconds('203.0.113.1')).toBe(1);
    clock += 500;
    // The block lifts by itself: refused requests were never counted.
    expect(limiter.retryAfterSeconds('203.0.113.1')).toBe(0);
    limiter.recordFailure('203.0.113.1');
    expect(limiter.retryAfterSeconds('203.0.113.1')).toBe(0);
  });

  it('counts IPv6 clients by their /64 network', () => {
    const limiter = new AddressFailureLimiter(2, 60_000, now);
    limiter.recordFailure('2001:db8:0:1::1');
    limiter.recordFailure('2001:db8:0:1::2');
    expect(limiter.retryAfterSeconds('2001:db8:0:1::3')).toBeGreaterThan(0);
    expect(limiter.retryAfterSeconds('2001:db8:0:2::1')).toBe(0);
  });

  it('is off with a limit of 0', () => {
    const limiter = new AddressFailureLimiter(0, 60_000, now);
    for (let i = 0; i < 100; i++) limiter.recordFailure('203.0.113.1');
    expect(limiter.retryAfterSeconds('203.0.113.1')).toBe(0);
  });

  it('remembers a bounded number of addresses, forgetting expired and then the oldest windows first', () => {
    const limiter = new AddressFailureLimiter(1, 60_000, now, 100);
    for (let i = 0; i < 100; i++) limiter.recordFailure(`10.0.0.${i}`);
    clock += 60_000;
    limiter.recordFailure('10.0.1.1');
    expect(limiter.tracked).toBe(1);
    for (let i = 0; i < 150; i++) limiter.recordFailure(`10.0.2.${i}`);
    expect(limiter.tracked).toBe(100);
    expect(limiter.retryAfterSeconds('10.0.2.149')).toBeGreaterThan(0);
  });
});
