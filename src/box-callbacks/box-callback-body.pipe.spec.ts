import 'reflect-metadata';
import * as classTransformer from 'class-transformer';
import { PayloadFieldError } from '../common/payload-error';
import { BoxCallbackBodyPipe } from './box-callback-body.pipe';

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
    const [received] = pipe.transform(record({ wide, spot_image: 'AAAA' }));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0][1]).toEqual({
      mq_license_key: 'K',
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

  it('names legacy fields as sent', () => {
    expect(() => pipe.transform({ dev_sno: 'K', timestamp: 1, ep_info: { ep_id: 5 } })).toThrow(
      expect.objectContaining({ field: 'ep_info.ep_id' }),
    );
  });

  it('refuses an object over the key limit before validating', () => {
    const wide = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]));
    expect(() => pipe.transform(record({ wide }))).toThrow(expect.objectContaining({ field: 'wide' }));
  });
});
