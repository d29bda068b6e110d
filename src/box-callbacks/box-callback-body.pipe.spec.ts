import 'reflect-metadata';
import * as classTransformer from 'class-transformer';
import fc from 'fast-check';
import { base64Variant } from '../../test/helpers/base64-variants';
import { parseJsonBody } from '../common/json-body';
import { LiftedText } from '../common/lifted-text';
import { PayloadFieldError } from '../common/payload-error';
import { BOX_LIFTED_KEYS, BoxCallbackBodyPipe, dtoError, surelyValidIdentifyingFields } from './box-callback-body.pipe';
import { toIngestCommand } from './recognition-record.mapper';

const record = (extra: Record<string, unknown> = {}) => ({
  mq_license_key: 'K',
  timestamp: 1710000000000,
  media_device_info: { media_device_id: 'cam-1', media_device_type: 'rtsp', lane: 2 },
  ...extra,
});

describe('BoxCallbackBodyPipe', () => {
  const pipe = new BoxCallbackBodyPipe();
  afterEach(() => jest.restoreAllMocks());

  it('hands class-transformer only the identifying fields, never the unknown rest of a record', () => {
    const spy = jest.spyOn(classTransformer, 'plainToInstance');
    const wide = Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`k${i}`, i]));
    // 128 surrogate pairs: 256 UTF-16 units, which the fast path leaves to the DTO (it counts 128 characters).
    const key = '\u{1F600}'.repeat(128);
    const [received] = pipe.transform(record({ wide, spot_image: 'AAAA', mq_license_key: key }));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0][1]).toEqual({
      mq_license_key: key,
      timestamp: 1710000000000,
      media_device_info: { media_device_id: 'cam-1' },
    });
    // The mapper still sees the whole record.
    expect(received.dto).toMatchObject({ wide, spot_image: 'AAAA', media_device_info: { lane: 2 } });
  });

  it.each([
    [{ media_device_info: [{ media_device_id: 'x' }] }, 'media_device_info', /must be an object/],
    [{ media_device_info: 'cam' }, 'media_device_info', /must be an object/],
    [{ media_device_info: { media_device_id: 7 } }, 'media_device_info.media_device_id', /media_device_id/],
    [{ media_device_info: undefined }, 'media_device_info.media_device_id', /is required/],
    [{ timestamp: 'soon' }, 'timestamp', /epoch milliseconds/],
    [{ mq_license_key: '' }, 'mq_license_key', /must not be empty/],
  ])('still names the bad identifying field: %j', (patch, field, message) => {
    let error: unknown;
    try {
      pipe.transform(record(patch));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PayloadFieldError);
    expect(error).toMatchObject({ field, message: expect.stringMatching(message) });
  });

  it('accepts a plainly valid record without class-transformer or class-validator', () => {
    const spy = jest.spyOn(classTransformer, 'plainToInstance');
    const [received] = pipe.transform(record({ timestamp: '1710000000000' }));
    expect(spy).not.toHaveBeenCalled();
    expect(received.dto.media_device_info.media_device_id).toBe('cam-1');
  });

  it('its fast path never accepts identifying fields the DTO refuses', () => {
    // Mostly near the DTO's edges (length 128, NUL, lone surrogates, digit strings), so that every rule is hit often.
    const edgeText = fc.oneof(
      fc.constantFrom('', ' ', 'K', '\u0000', 'a\ud800', '\udc00b', '\u{1F600}', 'x'.repeat(128), 'x'.repeat(129), '\u{1F600}'.repeat(64)),
      fc.string({ unit: fc.constantFrom('x', '\u0000', '\ud800', '\udc00', '\u{1F600}'), minLength: 125, maxLength: 131 }),
      fc.string({ unit: 'binary', maxLength: 8 }),
    );
    const other = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(null, undefined, true, [], {}, Number.MAX_SAFE_INTEGER + 1));
    const time = fc.oneof(
      fc.integer(),
      fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }).map(String),
      fc.constantFrom(' 12 ', '-0', '1e3', '0x10', '', 1.5, Number.MAX_SAFE_INTEGER + 1, null, undefined),
    );
    const value = fc.oneof({ arbitrary: edgeText, weight: 4 }, { arbitrary: other, weight: 1 });
    const device = fc.oneof(
      { arbitrary: fc.record({ media_device_id: value }), weight: 4 },
      { arbitrary: fc.oneof(value, fc.array(fc.record({ media_device_id: value }), { maxLength: 1 })), weight: 1 },
    );
    fc.assert(
      fc.property(fc.record({ mq_license_key: value, timestamp: fc.oneof(time, value), media_device_info: device }), (r) => {
        if (surelyValidIdentifyingFields(r)) expect(dtoError(r)).toBeNull();
      }),
      { numRuns: 3000 },
    );
    // And it does take the common case.
    expect(surelyValidIdentifyingFields(record())).toBe(true);
  });

  it('names legacy fields as sent', () => {
    expect(() => pipe.transform({ dev_sno: 'K', timestamp: 1, ep_info: { ep_id: 5 } })).toThrow(
      expect.objectContaining({ field: 'ep_info.ep_id' }),
    );
  });

  it('refuses an object over the key limit before validating', () => {
    const wide = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]));
    expect(() => pipe.transform(record({ wide }))).toThrow(expect.objectContaining({ field: 'wide' }));
  });

  it('hands the mapper a LiftedText only where it reads an image: older-firmware image keys left unread become strings', () => {
    const image = Buffer.alloc(3000, 5).toString('base64');
    const parse = (body: unknown) => pipe.transform(parseJsonBody(Buffer.from(JSON.stringify(body)), BOX_LIFTED_KEYS));
    const legacy = { dev_sno: 'K', timestamp: 1710000000000, ep_info: { ep_id: 'cam' } };
    const [renamed] = parse({ ...legacy, spot_pic: image });
    expect(renamed.dto.spot_image).toBeInstanceOf(LiftedText);
    const [twins] = parse({ ...legacy, spot_pic: image, spot_image: image });
    expect(twins.dto).toMatchObject({ spot_image: expect.any(LiftedText), spot_pic: image });
    const [v2] = parse(record({ reg_image: image, reg_pic: image, recognize_face: image }));
    expect(v2.dto).toMatchObject({ reg_image: expect.any(LiftedText), reg_pic: image, recognize_face: image });
  });

  it('maps a push with its images lifted exactly as the push JSON.parse gives: images, defects, unknown fields', () => {
    const keys = [...BOX_LIFTED_KEYS];
    const push = fc
      .tuple(fc.boolean(), fc.subarray(keys, { maxLength: 4 }), fc.array(base64Variant, { minLength: 4, maxLength: 4 }))
      .map(([older, present, images]) => ({
        ...(older ? { dev_sno: 'K', timestamp: 1710000000000, ep_info: { ep_id: 'cam' } } : record()),
        ...Object.fromEntries(present.map((k, i) => [k, images[i]])),
      }));
    const mapped = (body: unknown) =>
      pipe.transform(body).map((r) => {
        const command = toIngestCommand(r, null, { maxImageBytes: 98_304, receivedAt: 1710000000000 });
        const images = Object.entries(command.images).map(([role, image]) => [role, image.contentType, image.bytes.toString('base64')]);
        return { ...command, images };
      });
    fc.assert(
      fc.property(push, (body) => {
        const json = Buffer.from(JSON.stringify(body));
        expect(mapped(parseJsonBody(json, BOX_LIFTED_KEYS))).toEqual(mapped(JSON.parse(json.toString())));
      }),
      { numRuns: 60 },
    );
  });
});
