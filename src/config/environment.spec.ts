import { ConfigurationError, environmentProblems, validateEnvironment } from './environment';

describe('validateEnvironment', () => {
  it('fills defaults for an empty environment (the embedded set-up)', () => {
    const env = validateEnvironment({});
    expect(env.PORT).toBe(3000);
    expect(env.DATA_DIR).toBe('./data');
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.BODY_LIMIT).toBe('32mb');
    expect(env.DB_MIGRATIONS_RUN).toBe(true);
  });

  it('converts strings from the environment to typed values', () => {
    const env = validateEnvironment({ PORT: '8080', DB_MIGRATIONS_RUN: 'false', OUTBOX_RELAY_ENABLED: '0' });
    expect(env.PORT).toBe(8080);
    expect(env.DB_MIGRATIONS_RUN).toBe(false);
    expect(env.OUTBOX_RELAY_ENABLED).toBe(false);
  });

  it('names every invalid variable', () => {
    expect(() => validateEnvironment({ PORT: 'eighty', DATABASE_URL: 'mysql://x', BODY_LIMIT: 'huge' })).toThrow(
      /PORT:[\s\S]*DATABASE_URL: must be a postgres:\/\/ URL[\s\S]*BODY_LIMIT: must look like 32mb/,
    );
  });

  it('checks WEBHOOK_ALLOWED_NETWORKS entry by entry', () => {
    expect(validateEnvironment({}).WEBHOOK_ALLOWED_NETWORKS).toMatch(/^!169\.254\.0\.0\/16,/);
    expect(validateEnvironment({ WEBHOOK_ALLOWED_NETWORKS: '!10.0.0.1, 10.0.0.0/8' }).WEBHOOK_ALLOWED_NETWORKS).toBe(
      '!10.0.0.1, 10.0.0.0/8',
    );
    expect(() => validateEnvironment({ WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/8,intranet' })).toThrow(
      /WEBHOOK_ALLOWED_NETWORKS: "intranet" is not an IP address or CIDR network/,
    );
  });

  it('says one line per bad variable, with the value given unless it is a secret', () => {
    expect(environmentProblems({ PORT: '70000', ADMIN_API_KEY: 'short-secret', LOG_LEVEL: 'loud', HOST: 'h' })).toEqual([
      'PORT: must not be greater than 65535 (got "70000")',
      'LOG_LEVEL: must be one of the following values: silent, error, warn, info, debug (got "loud")',
      'ADMIN_API_KEY: must be at least 32 characters',
    ]);
    expect(environmentProblems({})).toEqual([]);
    try {
      validateEnvironment({ PORT: 'x' });
      throw new Error('not thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigurationError);
      expect((e as ConfigurationError).problems).toEqual([
        'PORT: must be an integer number, must not be less than 0, must not be greater than 65535 (got "x")',
      ]);
    }
  });

  it('takes broker URLs and names, never repeating a broker URL (it may carry a password)', () => {
    const env = validateEnvironment({ MQTT_URL: 'mqtt://u:p@broker:1883', AMQP_URL: 'amqps://u:p@mq/vhost' });
    expect([env.MQTT_URL, env.MQTT_TOPIC_PREFIX, env.AMQP_URL, env.AMQP_EXCHANGE]).toEqual([
      'mqtt://u:p@broker:1883',
      'recognition-hub',
      'amqps://u:p@mq/vhost',
      'recognition-hub.events',
    ]);
    expect(
      environmentProblems({ MQTT_URL: 'http://u:hunter2@broker', AMQP_URL: 'rabbit://u:hunter2@mq', MQTT_TOPIC_PREFIX: 'a/#' }),
    ).toEqual([
      'MQTT_URL: must be an mqtt://, mqtts://, ws:// or wss:// URL',
      'MQTT_TOPIC_PREFIX: must be a topic without wildcards (+, #) or spaces (got "a/#")',
      'AMQP_URL: must be an amqp:// or amqps:// URL',
    ]);
  });
});
