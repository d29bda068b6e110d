import fc from 'fast-check';
import { toLegacy } from './box-edge-legacy';
import { CALLBACK_PATH, fixtureFiles, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb, testDbKind } from './helpers/test-database';

type Row = Record<string, unknown>;

/** 1,000 runs on SQLite; PostgreSQL runs a share of them so the suite stays quick on both. */
const FUZZ_RUNS = testDbKind() === 'sqlite' ? 1000 : 250;
const OK_STATUSES = [200, 400, 401, 403, 413, 415];

const smalls = fixtureFiles('small').map((f) => readFixture(f));
const typical = readFixture('typical/000000.json');
const faceCrop = typical.recognize_face_image as string;
const bases: Row[] = [...smalls, readFixture('truncated-images.json'), ...smalls.slice(0, 5).map(toLegacy)];

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Every (parent, key) in a record, to aim mutations anywhere in it. */
function slots(root: Row): [Row | unknown[], string | number][] {
  const out: [Row | unknown[], string | number][] = [];
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) v.forEach((c, i) => (out.push([v, i]), stack.push(c)));
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) (out.push([v as Row, k]), stack.push((v as Row)[k]));
  }
  return out;
}

function corruptBase64(s: string, how: number, at: number): string {
  if (s.length === 0) return '!';
  const i = at % s.length;
  switch (how % 5) {
    case 0:
      return s.slice(0, i); // truncated
    case 1:
      return `${s.slice(0, i)}*${s.slice(i + 1)}`; // a character outside the alphabet
    case 2:
      return `${s.slice(0, i)}=${s.slice(i)}`; // padding in the middle
    case 3:
      return `data:image/jpeg;base64,${s.slice(i)}`;
    default:
      return `${s.slice(0, i)}\n${s.slice(i)}`; // line-wrapped
  }
}

function nest(levels: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { n: v };
  return v;
}

/** Text PostgreSQL cannot hold (NUL) or no database can encode (unpaired surrogates), amid ordinary text. */
const UNSTORABLE = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff'];
const hostileText = (pick: number, aux: number, around: string): string => {
  const at = around.length ? aux % (around.length + 1) : 0;
  return `${around.slice(0, at)}${UNSTORABLE[pick % UNSTORABLE.length]}${around.slice(at)}`;
};

type Mutation = (r: Row, pick: number, aux: number, value: unknown) => void;

const MUTATIONS: Mutation[] = [
  // drop any field
  (r, pick) => {
    const s = slots(r);
    if (s.length) {
      const [parent, key] = s[pick % s.length];
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    }
  },
  // retype any field
  (r, pick, _aux, value) => {
    const s = slots(r);
    if (s.length) {
      const [parent, key] = s[pick % s.length];
      (parent as Row)[key as string] = value;
    }
  },
  // corrupt the feature or put a corrupted image in an image field
  (r, pick, aux) => {
    const attr = (r.recognize_face_attr ?? {}) as Row;
    if (pick % 2 && typeof attr.feature_base64_str === 'string')
      attr.feature_base64_str = corruptBase64(attr.feature_base64_str, pick, aux);
    else r[['reg_image', 'spot_image', 'ir_image', 'recognize_face_image', 'spot_pic'][pick % 5]] = corruptBase64(faceCrop, pick >> 1, aux);
  },
  // a genuine image, where the box would put one
  (r, pick) => {
    r[['reg_image', 'spot_image', 'ir_image', 'recognize_face_image', 'reg_pic'][pick % 5]] = faceCrop;
  },
  // deep nesting somewhere
  (r, pick, aux) => {
    r[['extra', 'media_device_info', 'recognize_face_attr', 'ep_info'][pick % 4]] = nest(aux % 64);
  },
  // huge, negative, fractional or stringy numbers
  (r, pick) => {
    const field = ['timestamp', 'score', 'in_timestamp', 'out_timestamp', 'identity_id', 'person_type', 'want_action'][pick % 7];
    r[field] = [1e308, -1, 1.5, 9007199254740993, '00017', '1e3', 0, -0][Math.floor(pick / 7) % 8];
  },
  // NUL or an unpaired surrogate in any string (image data aside, where it is just bad base64) or any key
  (r, pick, aux) => {
    const s = slots(r).filter(([p, k]) => typeof (p as Row)[k as string] === 'string' && ((p as Row)[k as string] as string).length < 1024);
    if (s.length && pick % 4) {
      const [parent, key] = s[pick % s.length];
      (parent as Row)[key as string] = hostileText(aux, pick, (parent as Row)[key as string] as string);
      return;
    }
    const keyed = slots(r).filter(([p]) => !Array.isArray(p));
    if (keyed.length) {
      const [parent, key] = keyed[aux % keyed.length] as [Row, string];
      parent[hostileText(pick, aux, key)] = parent[key];
      delete parent[key];
    }
  },
  // a box clock far outside the accepted window (year 9999, year 1900, 1970, two days ahead)
  (r, pick) => {
    const field = ['timestamp', 'in_timestamp', 'out_timestamp'][pick % 3];
    r[field] = [253402300799000, -2208988800000, '-2208988800000', 1, Date.now() + 2 * 86_400_000][Math.floor(pick / 3) % 5];
  },
  // a wrong feature: short list, out-of-range list, NaN bytes
  (r, pick) => {
    if (typeof r.recognize_face_attr !== 'object' || r.recognize_face_attr === null) r.recognize_face_attr = {};
    const attr = r.recognize_face_attr as Row;
    const choice = pick % 3;
    if (choice === 0) attr.feature = Array(pick % 600).fill(0.5);
    else if (choice === 1) attr.feature = Array(512).fill(3.5e38);
    else attr.feature_base64_str = Buffer.alloc(2048, 0xff).toString('base64');
  },
];

/** A hostile body as text: a mutated real record, a prototype-poisoning one, an array, or random JSON. */
const hostileBody = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        base: fc.nat(),
        steps: fc.array(fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat(), fc.nat(), fc.jsonValue({ maxDepth: 3 })), {
          minLength: 1,
          maxLength: 4,
        }),
      })
      .map(({ base, steps }) => {
        const r = clone(bases[base % bases.length]);
        for (const [m, pick, aux, value] of steps) MUTATIONS[m](r, pick, aux, value);
        return JSON.stringify(r);
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(), fc.constantFrom('__proto__', 'constructor', 'prototype'))
      .map(([b, key]) => JSON.stringify(bases[b % bases.length]).replace(/^\{/, `{"${key}":{"polluted":true},`)),
  },
  {
    weight: 1,
    arbitrary: fc.array(fc.nat(), { minLength: 0, maxLength: 102 }).map((ix) => JSON.stringify(ix.map((i) => bases[i % bases.length]))),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

describeDb('box edge properties', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: string, path = CALLBACK_PATH) => t.http().post(path).set('content-type', 'application/json').send(body);

  it(`never answers 5xx or crashes on ${FUZZ_RUNS} random and mutated payloads`, async () => {
    const tally = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostileBody, async (body) => {
        const res = await post(body);
        tally.set(res.status, (tally.get(res.status) ?? 0) + 1);
        expect(OK_STATUSES).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/application\/json/);
        if (res.status !== 200) expect(typeof res.body.message).toBe('string');
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(({} as Row).polluted).toBeUndefined();
    // The generator reaches both sides of the rule: stored with defects, and refused.
    expect(tally.get(200)).toBeGreaterThan(FUZZ_RUNS / 10);
    expect(tally.get(400)).toBeGreaterThan(FUZZ_RUNS / 10);
    const withDefects = await t.dataSource.query(`SELECT COUNT(*) AS n FROM recognition_records WHERE defects <> '[]'`);
    expect(Number(withDefects[0].n)).toBeGreaterThan(0);
    // Unstorable text and wrong clocks were generated, and stored cleaned (PostgreSQL would have answered 500).
    for (const code of ['unstorable_characters', 'timestamp_out_of_range']) {
      const n = await t.dataSource.query(`SELECT COUNT(*) AS n FROM recognition_records WHERE defects LIKE '%"${code}"%'`);
      expect(Number(n[0].n)).toBeGreaterThan(0);
    }
    // SQLite would hold NUL: none reached a text column there either, so both databases store the same.
    if (testDbKind() === 'sqlite') {
      const columns = ['device_external_id', 'identity_external_id', 'identity_name', 'user_type', 'post_action', 'api_version'];
      const nul = await t.dataSource.query(
        `SELECT COUNT(*) AS n FROM recognition_records WHERE ${columns.map((c) => `instr(${c}, char(0)) > 0`).join(' OR ')}`,
      );
      expect(Number(nul[0].n)).toBe(0);
    }
    // Still serving, and nothing was stored half-way: every record has its box and media device.
    expect((await post(JSON.stringify({ ...bases[0], timestamp: 1730000000000 }))).status).toBe(200);
    const orphans = await t.dataSource.query(
      `SELECT COUNT(*) AS n FROM recognition_records r LEFT JOIN media_devices m ON m.id = r.media_device_id WHERE m.id IS NULL`,
    );
    expect(Number(orphans[0].n)).toBe(0);
  });

  it('stores exactly one record for a valid payload sent k times in any interleaving, in either format', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(smalls.length - 1),
        fc.array(fc.constantFrom('v2', 'legacy', 'array'), { minLength: 1, maxLength: 6 }),
        fc.scheduler(),
        async (which, copies, s) => {
          const ts = 1731000000000 + run++;
          const v2: Row = { ...clone(smalls[which]), timestamp: ts };
          delete (v2.media_device_info as Row).media_device_url;
          const forms: Record<string, string> = {
            v2: JSON.stringify(v2),
            legacy: JSON.stringify(toLegacy(v2)),
            array: JSON.stringify([v2]),
          };
          const sends = copies.map((form) => s.schedule(Promise.resolve(form)).then((f) => post(forms[f])));
          await s.waitAll();
          const results = await Promise.all(sends);
          expect(results.map((r) => r.status)).toEqual(copies.map(() => 200));
          const n = await t.dataSource.query(`SELECT COUNT(*) AS n FROM recognition_records WHERE occurred_at = ${ts}`);
          expect(Number(n[0].n)).toBe(1);
        },
      ),
      { numRuns: testDbKind() === 'sqlite' ? 60 : 30 },
    );
  });
});
