import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { AsyncRecognitionRecordDto } from './dto/async-recognition-record.dto';
import { checkJsonShape, parseByteLimit } from './hostile-input';

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

describe('parseByteLimit', () => {
  it.each([
    ['32mb', 32 * 1024 * 1024],
    ['100kb', 102_400],
    ['512', 512],
    ['1GB', 1024 ** 3],
  ])('%s → %i bytes', (text, bytes) => expect(parseByteLimit(text)).toBe(bytes));

  it('rejects other forms', () => expect(() => parseByteLimit('lots')).toThrow());
});
