import { describeBrokerUrl, reconnectDelay, scrubError } from './broker-target';

describe('broker URLs in logs', () => {
  it('shows scheme, host and port only', () => {
    expect(describeBrokerUrl('mqtt://hub:s3cret@broker.example.com:1883')).toBe('mqtt://broker.example.com:1883');
    expect(describeBrokerUrl('amqps://u:p%40ss@mq.example.com/vhost')).toBe('amqps://mq.example.com');
    expect(describeBrokerUrl('not a url')).toBe('invalid URL');
  });

  it('blanks user and password repeated in an error', () => {
    const url = 'amqp://hubuser:p%40ssword@mq:5672';
    expect(scrubError(url, new Error('connect to amqp://hubuser:p@ssword@mq failed (p%40ssword)'))).toBe(
      'connect to amqp://…:…@mq failed (…)',
    );
  });

  it('backs off exponentially up to the cap', () => {
    expect(reconnectDelay(1, 30_000)).toBeLessThanOrEqual(600);
    expect(reconnectDelay(4, 30_000)).toBeGreaterThanOrEqual(3200);
    expect(reconnectDelay(50, 30_000)).toBeLessThanOrEqual(36_000);
    expect(reconnectDelay(50, 30_000)).toBeGreaterThanOrEqual(24_000);
  });
});
