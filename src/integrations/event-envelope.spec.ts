import { IdentityMergedEvent, RecognitionRecordedEvent, RecordRef, StrangerRegisteredEvent } from '../events/domain-events';
import { toEnvelope, toPublicData } from './event-envelope';

const record: RecordRef = {
  recordId: 'r1',
  boxId: 'b1',
  licenseKey: 'BOX-A',
  mediaDeviceId: 'm1',
  deviceExternalId: 'cam-1',
  identityId: 'i1',
  identityExternalId: 'p-1',
  identityName: null,
  userType: 'vip',
  postAction: '0',
  occurredAt: 5,
  score: 0.5,
  hasDefects: false,
};

describe('public event data', () => {
  it('is mapped field by field: an internal field added to an event payload does not reach consumers', () => {
    const internal = { ...record, featureVersion: 3 } as RecordRef;
    const data = toPublicData(new RecognitionRecordedEvent(internal), { face: '/records/r1/images/face' });
    expect(data).toEqual({ ...record, images: { face: '/records/r1/images/face' } });
    expect(Object.keys(data)).not.toContain('featureVersion');
    const face = { recordId: 'r1', identityId: 'i1', identityExternalId: 'p-1', imageSha256: null, occurredAt: 5, crop: 'internal' };
    expect(Object.keys(toPublicData(new StrangerRegisteredEvent(face)))).toEqual([
      'recordId',
      'identityId',
      'identityExternalId',
      'imageSha256',
      'occurredAt',
    ]);
  });

  it('links images only for events about a record, and an unknown type gets empty data', () => {
    const merge = {
      sourceId: 's',
      sourceExternalId: 'x',
      targetId: 't',
      targetExternalId: 'y',
      movedRecords: 1,
      movedFaces: 0,
      mergedBy: 'admin',
    };
    expect(toPublicData(new IdentityMergedEvent(merge), { face: '/records/r1/images/face' })).toEqual(merge);
    expect(toEnvelope({ id: 9, type: 'from.a-newer-release', createdAt: 0 }, null)).toEqual({
      id: '9',
      type: 'from.a-newer-release',
      timestamp: '1970-01-01T00:00:00.000Z',
      data: {},
    });
  });
});
