import { DOMAIN_EVENT_CLASSES, eventTypeOf, rehydrateEvent, serialiseEvent, withoutImageReferences } from './domain-events';

describe('domain event (de)serialisation', () => {
  it.each(DOMAIN_EVENT_CLASSES.map((cls) => [cls.type, cls] as const))('%s round-trips through the outbox payload', (type, cls) => {
    const body = { recordId: 'r1', nested: { n: 1 }, list: ['a'] };
    const event = new cls(body as never, { eventId: 1, occurredAt: 2 });
    expect(eventTypeOf(event)).toBe(type);
    const payload = JSON.parse(JSON.stringify(serialiseEvent(event)));
    expect(payload).not.toHaveProperty('meta');
    const back = rehydrateEvent(type, payload, { eventId: 7, occurredAt: 8 });
    expect(back).toBeInstanceOf(cls);
    expect(serialiseEvent(back!)).toEqual(serialiseEvent(event));
    expect(back!.meta).toEqual({ eventId: 7, occurredAt: 8 });
  });

  it('keeps the stored payload shape of every type: rows written by earlier releases still rehydrate', () => {
    const keys = Object.fromEntries(DOMAIN_EVENT_CLASSES.map((cls) => [cls.type, Object.keys(serialiseEvent(new cls({} as never)))]));
    expect(keys).toEqual({
      'recognition.recorded': ['record'],
      'identity.stranger-registered': ['face'],
      'identity.face-library-updated': ['face'],
      'alert.blacklist-seen': ['record'],
      'alert.vip-seen': ['record'],
      'identity.merged': ['merge'],
      'alert.raised': ['alert'],
      'alert.acknowledged': ['acknowledgement'],
      'person.identities-linked': ['link'],
      'person.link-suggested': ['suggestion'],
      'person.suggestion-rejected': ['suggestion'],
      'person.identity-unlinked': ['unlink'],
      'identity.biometrics-erased': ['erasure'],
      'retention.records-deleted': ['deletion'],
    });
  });

  it('returns null for a type it does not know', () => {
    expect(rehydrateEvent('no.such-event', { x: 1 }, { eventId: 1, occurredAt: 1 })).toBeNull();
  });
});

describe('withoutImageReferences (erasure)', () => {
  it('drops image hashes and links and keeps ids and times', () => {
    const face = { face: { recordId: 'r1', identityId: 'i1', imageSha256: 'ab'.repeat(32), occurredAt: 5 } };
    expect(withoutImageReferences(face)).toEqual({ face: { recordId: 'r1', identityId: 'i1', imageSha256: null, occurredAt: 5 } });
    const envelope = {
      id: '7',
      type: 'recognition.recorded',
      timestamp: 't',
      data: { recordId: 'r1', images: { face: '/records/r1/images/face' } },
    };
    expect(withoutImageReferences(envelope)).toEqual({ ...envelope, data: { recordId: 'r1', images: {} } });
  });

  it('returns null when there is nothing to remove', () => {
    expect(withoutImageReferences({ face: { recordId: 'r1', imageSha256: null } })).toBeNull();
    expect(withoutImageReferences({ data: { recordId: 'r1', images: {} } })).toBeNull();
  });
});
