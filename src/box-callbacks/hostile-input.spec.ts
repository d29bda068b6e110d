import 'reflect-metadata';
import fc from 'fast-check';
import { plainToInstance } from 'class-transformer';
import { AsyncRecognitionRecordDto } from './dto/async-recognition-record.dto';
import { checkJsonBytes, checkJsonShape, JSON_LIMITS, parseByteLimit } from './hostile-input';

describe('checkJsonShape', () => {
  const nested = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

  it.each([
    [1, null],
    [32, null],
  ])('accepts %i levels', (levels, expected) => {
    expect(checkJsonShape(nested(levels))).toEqual(expected);
  });

  it.each([33, 1_000_000])('refuses %i levels without overflowing the stack', (levels) => {
    expect(checkJsonShape(nested(levels))).toMatchObject({ message: expect.stringMatching(/deeper than 32/) });
  });

  it('names where the depth was exceeded', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { n: deep };
    expect(checkJsonShape({ ok: 1, extra: deep })?.field).toMatch(/^extra\.n\.n/);
  });

  it.each([
    ['{"__proto__":{"x":1}}', '__proto__'],
    ['{"a":{"constructor":{"prototype":{}}}}', 'a.constructor'],
    ['[{"ok":1},{"b":[{"prototype":2}]}]', '[1].b[0].prototype'],
  ])('refuses prototype-reaching keys in %s', (json, field) => {
    expect(checkJsonShape(JSON.parse(json))).toMatchObject({ field });
  });

  it('keeps attacker-chosen key names in the field short', () => {
    const key = 'k'.repeat(10_000);
    const problem = checkJsonShape(JSON.parse(`{"${key}":{"__proto__":1}}`));
    expect(problem!.field.length).toBeLessThan(100);
  });

  it('accepts ordinary records and scalars', () => {
    expect(checkJsonShape({ a: [1, { b: 'c' }], constructorish: 1 })).toBeNull();
    expect(checkJsonShape('text')).toBeNull();
    expect(checkJsonShape(null)).toBeNull();
  });

  it('verified: class-transformer itself skips __proto__ (the guard refuses such bodies outright)', () => {
    const dto = plainToInstance(AsyncRecognitionRecordDto, JSON.parse('{"__proto__":{"polluted":1},"mq_license_key":"K"}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(dto)).toBe(AsyncRecognitionRecordDto.prototype);
  });
});

describe('JSON limits, on the parsed body (checkJsonShape) and on its bytes (checkJsonBytes)', () => {
  const object = (keys: number, value = '1') => `{${Array.from({ length: keys }, (_, i) => `"k${i}":${value}`).join(',')}}`;
  const list = (items: number, item = '0') => `[${Array(items).fill(item).join(',')}]`;
  const record = (extra: string) => `{"mq_license_key":"K","timestamp":1,"media_device_info":{"media_device_id":"m"},${extra}}`;
  const both = (json: string) => {
    const fromBytes = checkJsonBytes(Buffer.from(json));
    expect(checkJsonShape(JSON.parse(json))).toEqual(fromBytes);
    return fromBytes;
  };

  it('defaults are well above what boxes send', () => {
    expect(JSON_LIMITS).toEqual({ maxDepth: 32, maxObjectKeys: 1000, maxValues: 200_000, maxKeyBytes: 256 });
  });

  it.each([
    ['1,000 keys in one object', object(1000)],
    ['200,000 keys and items in all', `[${Array(199).fill(object(999)).join(',')},${list(800)}]`],
    ['a 256-byte key, multi-byte characters counted as bytes', `{"${'中'.repeat(85)}a":1}`],
    ['an escaped key that is short once decoded', `{"${'\\u0041'.repeat(50)}":1}`],
    ['strings holding JSON punctuation', `{"a":"{[,:\\\"]}","b":["]]]","{{{"]}`],
    [
      'an older-firmware feature list in each of 100 records',
      `[${Array(100)
        .fill(record(`"feature":${list(512, '0.1')}`))
        .join(',')}]`,
    ],
  ])('accept %s', (_name, json) => {
    expect(both(json)).toBeNull();
  });

  it.each([
    ['1,001 keys at the top', object(1001), 'body', /body has more than 1000 keys/],
    ['1,001 keys deep inside', `[1,{"a":[0,${object(1001)}]}]`, '[1].a[1]', /\[1\]\.a\[1\] has more than 1000 keys/],
    ['200,001 keys and items', `[${Array(200).fill(object(1000)).join(',')},0]`, 'body', /more than 200000 keys and array items/],
    ['a million-item array in an unknown field', record(`"x":${list(1_000_000)}`), 'body', /more than 200000/],
    ['a 257-byte key', `{"a":[{"${'é'.repeat(128)}b":1}]}`, `a[0].${'é'.repeat(64)}…`, /key is longer than 256 bytes/],
  ])('refuse %s, naming where', (_name, json, field, message) => {
    expect(both(json)).toEqual({ field, message: expect.stringMatching(message) });
  });

  it('the byte check stops at the first excess (the path names the first over-full object)', () => {
    const json = `{"a":${object(1001)},"b":${object(100_000)}}`;
    expect(checkJsonBytes(Buffer.from(json))).toEqual({ field: 'a', message: expect.stringMatching(/a has more than 1000 keys/) });
  });

  it('the byte check counts duplicate keys as sent (JSON.parse keeps one)', () => {
    const json = `{${Array(1001).fill('"same":1').join(',')}}`;
    expect(checkJsonBytes(Buffer.from(json))).toMatchObject({ field: 'body' });
    expect(checkJsonShape(JSON.parse(json))).toBeNull();
  });

  it('the byte check and the parsed check accept and refuse the same bodies (property)', () => {
    const limits = fc.record({
      maxDepth: fc.integer({ min: 1, max: 6 }),
      maxObjectKeys: fc.integer({ min: 0, max: 5 }),
      maxValues: fc.integer({ min: 0, max: 40 }),
      maxKeyBytes: fc.integer({ min: 0, max: 12 }),
    });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), limits, fc.boolean(), (value, l, indent) => {
        const shape = checkJsonShape(value, l);
        fc.pre(!shape?.message.includes('is not accepted')); // prototype keys: the parsed check's alone
        const bytes = checkJsonBytes(Buffer.from(JSON.stringify(value, null, indent ? 2 : undefined)), l);
        expect(bytes === null).toBe(shape === null);
      }),
      { numRuns: 2000 },
    );
  });

  it('the byte check leaves malformed JSON to the parser', () => {
    expect(checkJsonBytes(Buffer.from('{"a":"unterminated'))).toBeNull();
    expect(checkJsonBytes(Buffer.from(']]]}}}{"a":1'))).toBeNull();
  });
});

describe('parseByteLimit', () => {
  it.each([
    ['32mb', 32 * 1024 * 1024],
    ['100kb', 102_400],
    ['512', 512],
    ['1GB', 1024 ** 3],
  ])('%s → %i bytes', (text, bytes) => expect(parseByteLimit(text)).toBe(bytes));

  it('rejects other forms', () => expect(() => parseByteLimit('lots')).toThrow());
});
