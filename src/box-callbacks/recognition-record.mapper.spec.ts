import 'reflect-metadata';
import type { ReceivedRecord } from './box-callback-body.pipe';
import type { AsyncRecognitionRecordDto } from './dto/async-recognition-record.dto';
import { releaseImageText, toIngestCommand } from './recognition-record.mapper';

// The smallest bytes the sniffer takes for a complete JPEG: SOI ... EOI.
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9]);

describe('releaseImageText', () => {
  it('takes the base64 text of every image off a mapped record; the command keeps the decoded bytes', () => {
    const dto = {
      mq_license_key: 'BOX-1',
      timestamp: 1_764_000_000_000,
      media_device_info: { media_device_id: 'cam-1' },
      identity_name: 'Ann',
      spot_image: JPEG.toString('base64'),
      recognize_face_image: JPEG.toString('base64'),
      reg_image: 'not base64!',
      lane: 3,
    };
    const received: ReceivedRecord = {
      dto: dto as unknown as AsyncRecognitionRecordDto,
      format: 'v2',
      where: '',
      wireName: (p) => p,
      defects: [],
    };
    const command = toIngestCommand(received, null, { maxImageBytes: 1 << 20, receivedAt: dto.timestamp });
    releaseImageText(received);

    expect(Object.keys(dto).sort()).toEqual(['identity_name', 'lane', 'media_device_info', 'mq_license_key', 'timestamp']);
    expect(command.images.scene?.bytes.equals(JPEG)).toBe(true);
    expect(command.images.face?.bytes.equals(JPEG)).toBe(true);
    expect(command.images.registered).toBeUndefined();
    expect(command.defects.map((d) => d.field)).toContain('reg_image');
    expect(command.extra).toEqual({ lane: 3 });
  });
});
