import { createHmac } from 'node:crypto';
import { generateSecret, SECRET_PATTERN, sign, webhookHeaders } from './webhook-signature';

describe('Standard Webhooks signature', () => {
  it('matches the reference example of the specification', () => {
    // Example from the Standard Webhooks specification (and the svix libraries' tests).
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const body = '{"test": 2432232314}';
    expect(sign(secret, id, 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs with the decoded key bytes over id.timestamp.body', () => {
    const secret = generateSecret();
    expect(secret).toMatch(SECRET_PATTERN);
    const h = webhookHeaders(secret, 'abc', 1700000000, '{"a":1}');
    const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
      .update('abc.1700000000.{"a":1}')
      .digest('base64');
    expect(h).toEqual({ 'webhook-id': 'abc', 'webhook-timestamp': '1700000000', 'webhook-signature': `v1,${expected}` });
  });
});
