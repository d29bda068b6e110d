import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { AddressInfo } from 'node:net';
import { RetentionService } from '../src/retention/retention.service';
import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { SseClient } from './helpers/sse-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A JSON value with every leaf replaced by its kind, so the pin below is about shape, not values. */
function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, shapeOf(v)]));
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value !== 'string') return typeof value;
  if (UUID.test(value)) return 'uuid';
  if (/^\d+$/.test(value)) return 'digits';
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value)) return 'date-time';
  if (/^\/records\/[0-9a-f-]{36}\/images\/\w+$/.test(value)) return 'image-url';
  return 'string';
}

// A link per image the record has (the fixture has no infrared image), in role order.
const images = { registered: 'image-url', scene: 'image-url', face: 'image-url' };
const recordData = {
  recordId: 'uuid',
  boxId: 'uuid',
  licenseKey: 'string',
  mediaDeviceId: 'uuid',
  deviceExternalId: 'string',
  identityId: 'uuid',
  identityExternalId: 'string',
  identityName: 'string',
  userType: 'string',
  postAction: 'digits',
  occurredAt: 'integer',
  score: 'number',
  hasDefects: 'boolean',
  images,
};
const faceData = {
  recordId: 'uuid',
  identityId: 'uuid',
  identityExternalId: 'string',
  imageSha256: 'string',
  occurredAt: 'integer',
  images,
};
/** A stranger sighting whose feature is s·e_0 + sqrt(1-s²)·e_b: two share cosine s1·s2. */
function strangerWithFace(identity: string, s: number, b: number, timestamp: number): Json {
  return withFace(boxRecord({ identity, box: 'BOX-P', userType: 'stranger', postAction: '1001', timestamp }), s, b);
}

function withFace(body: Json, s: number, b: number): Json {
  const v = new Float32Array(512);
  v[0] = s;
  v[b] = Math.sqrt(1 - s * s);
  const attr: Json = { ...(body.recognize_face_attr as Json), feature_base64_str: Buffer.from(v.buffer).toString('base64') };
  delete attr.feature_binary;
  return { ...body, recognize_face_attr: attr };
}

const envelope = (data: Json) => ({ id: 'digits', type: 'string', timestamp: 'date-time', data });

/**
 * The public JSON of each event type as SSE clients and webhook receivers get it, key order included. This is the
 * contract with consumers: a change here is an API change (README "Live event stream and webhooks"), never a
 * side effect of renaming an internal field.
 */
const PUBLIC_SHAPES: Record<string, unknown> = {
  'recognition.recorded': envelope(recordData),
  'identity.stranger-registered': envelope(faceData),
  'identity.face-library-updated': envelope(faceData),
  'alert.blacklist-seen': envelope(recordData),
  'alert.vip-seen': envelope(recordData),
  'identity.merged': envelope({
    sourceId: 'uuid',
    sourceExternalId: 'string',
    targetId: 'uuid',
    targetExternalId: 'string',
    movedRecords: 'integer',
    movedFaces: 'integer',
    mergedBy: 'string',
  }),
  'alert.raised': envelope({
    alertId: 'uuid',
    ruleId: 'uuid',
    ruleName: 'string',
    severity: 'string',
    recordId: 'uuid',
    boxId: 'uuid',
    mediaDeviceId: 'uuid',
    personId: 'uuid',
    identityId: 'uuid',
    identityExternalId: 'string',
    identityName: 'string',
    userType: 'string',
    score: 'number',
    occurredAt: 'integer',
    raisedAt: 'integer',
    images,
  }),
  'alert.acknowledged': envelope({
    alertId: 'uuid',
    ruleId: 'uuid',
    recordId: 'uuid',
    severity: 'string',
    acknowledgedAt: 'integer',
    acknowledgedBy: 'string',
    comment: 'string',
  }),
  // The first of its type here is an operator's link: no similarity.
  'person.identities-linked': envelope({
    personId: 'uuid',
    identityIds: ['uuid'],
    absorbedPersonIds: ['uuid'],
    similarity: 'null',
    reason: 'string',
    linkedBy: 'string',
  }),
  'person.link-suggested': envelope({ suggestionId: 'uuid', personId: 'uuid', identityId: 'uuid', similarity: 'number' }),
  'person.suggestion-rejected': envelope({
    suggestionId: 'uuid',
    personId: 'uuid',
    identityId: 'uuid',
    similarity: 'number',
    rejectedBy: 'string',
  }),
  'person.identity-unlinked': envelope({ personId: 'uuid', identityId: 'uuid', newPersonId: 'uuid', unlinkedBy: 'string' }),
  // An identity with one record, erased.
  'identity.biometrics-erased': envelope({ identityId: 'uuid', identityExternalId: 'string', recordIds: ['uuid'], erasedBy: 'string' }),
  // One record past retention, deleted.
  'retention.records-deleted': envelope({ recordIds: ['uuid'], cutoff: 'integer' }),
};

/** Keys of a JSON value in order, nested ones as `a.b` (toEqual alone ignores key order). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Json).flatMap(([k, v]) => [prefix + k, ...keyPaths(v, `${prefix}${k}.`)]);
}

describeDb('event envelope: the public shape of every event type', () => {
  let t: TestApp;
  let client: SseClient;
  let doc: Json;
  const byType = new Map<string, Json>();

  beforeAll(async () => {
    t = await startTestApp({ env: { EVENT_STREAM_POLL_MS: '50', WEBHOOK_DISPATCH_ENABLED: 'false', RETENTION_RECORD_DAYS: '3650' } });
    const admin = (await createApiKey(t, 'admin')).key;
    // Each push raises recognition.recorded plus the events of its post_action and user_type.
    await push(
      t,
      boxRecord({ identity: 'env-vip', userType: 'vip', postAction: '1002', score: 93, timestamp: 1_790_000_001_000, withImages: true }),
    );
    // Another face than env-vip's (the fixtures share one), so that the two are not linked as one person.
    await push(
      t,
      withFace(
        boxRecord({
          identity: 'env-bl',
          userType: 'blacklist',
          postAction: '1001',
          score: 93,
          timestamp: 1_790_000_002_000,
          withImages: true,
        }),
        0,
        20,
      ),
    );
    // Persons: env-s2 resembles env-s1 (cosine 0.45, a suggestion); rejected, then linked and unlinked by an operator.
    await push(t, strangerWithFace('env-s1', 0.9, 10, 1_790_000_003_000));
    await t.drainOutbox();
    await push(t, strangerWithFace('env-s2', 0.5, 12, 1_790_000_004_000));
    await t.drainOutbox();
    // The default alert rules raised alert.raised for both; acknowledging one raises alert.acknowledged.
    const [alert] = (await t.http().get('/alerts').set('x-api-key', admin).expect(200)).body.items as Json[];
    await t
      .http()
      .post(`/alerts/${alert.id as string}/acknowledge`)
      .set('x-api-key', admin)
      .send({ comment: 'seen' })
      .expect(200);
    const identities: { id: string; external_id: string }[] = await t.dataSource.query('SELECT id, external_id FROM identities');
    const id = (external: string) => identities.find((i) => i.external_id === external)!.id;
    const person = id('env-s1');
    const [suggestion] = (await t.http().get(`/persons/${person}/suggestions`).set('x-api-key', admin).expect(200)).body.items as Json[];
    await t
      .http()
      .post(`/persons/${person}/suggestions/${suggestion.id as string}/reject`)
      .set('x-api-key', admin)
      .expect(200);
    await t
      .http()
      .post(`/persons/${person}/link`)
      .set('x-api-key', admin)
      .send({ identityId: id('env-s2') })
      .expect(200);
    await t
      .http()
      .post(`/persons/${person}/unlink`)
      .set('x-api-key', admin)
      .send({ identityId: id('env-s2') })
      .expect(200);
    await t
      .http()
      .post(`/identities/${id('env-bl')}/merge-into`)
      .set('x-api-key', admin)
      .send({ targetId: id('env-vip') })
      .expect(200);
    // Erasure and retention, on records of their own (erasing one above would take the image links of its events).
    await push(t, withFace(boxRecord({ identity: 'env-erased', timestamp: 1_790_000_005_000 }), 0, 30));
    await push(t, withFace(boxRecord({ identity: 'env-expired', timestamp: Date.now() - 3651 * 86_400_000 }), 0, 40));
    await t.drainOutbox();
    const erased: { id: string }[] = await t.dataSource.query(`SELECT id FROM identities WHERE external_id = 'env-erased'`);
    await t.http().post(`/identities/${erased[0].id}/erasure`).set('x-api-key', admin).expect(200);
    expect((await t.app.get(RetentionService).purgeExpired()).recordsDeleted).toBe(1);

    await t.app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    client = await SseClient.open(base, '/events/stream?last_event_id=0', { 'x-api-key': admin });
    await eventually(() => new Set(client.events.map((e) => e.event)).size >= Object.keys(PUBLIC_SHAPES).length, 'every event replayed');
    for (const e of client.events) if (!byType.has(e.event)) byType.set(e.event, e.data);
    doc = (await t.http().get('/docs-json').expect(200)).body as Json;
  });

  afterAll(async () => {
    client?.close();
    await t?.close();
  });

  it('raises every event type once through the real app', () => {
    expect([...byType.keys()].sort()).toEqual(Object.keys(PUBLIC_SHAPES).sort());
  });

  it.each(Object.keys(PUBLIC_SHAPES))('%s: the envelope has exactly the pinned keys, key order and value kinds', (type) => {
    const sent = byType.get(type)!;
    expect(sent.type).toBe(type);
    expect(shapeOf(sent)).toEqual(PUBLIC_SHAPES[type]);
    expect(keyPaths(sent)).toEqual(keyPaths(PUBLIC_SHAPES[type]));
  });

  it.each(Object.keys(PUBLIC_SHAPES))('%s: the OpenAPI document describes exactly what is sent', (type) => {
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    const resolve = (ref: Json): Json => schemas[String(ref.$ref).split('/').pop()!];
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    ajv.addFormat('int64', true);
    ajv.addSchema({ components: doc.components }, 'doc');
    const sent = byType.get(type)!;
    const validate = ajv.compile({ $ref: 'doc#/components/schemas/EventEnvelope' });
    expect([validate(sent), ajv.errorsText(validate.errors)]).toEqual([true, 'No errors']);

    // The event's own envelope (by the discriminator), and its data schema: the same fields, all of them required
    // but the image links, which a record without images (or erased) does not have.
    const mapping = (schemas.EventEnvelope.discriminator as { propertyName: string; mapping: Record<string, string> }).mapping;
    const own = resolve({ $ref: mapping[type] });
    expect((own.properties as Record<string, Json>).type.enum).toEqual([type]);
    const dataSchema = resolve((own.properties as Record<string, Json>).data);
    const data = sent.data as Json;
    expect(Object.keys(dataSchema.properties as Json).sort()).toEqual(Object.keys(data).sort());
    expect([...((dataSchema.required as string[]) ?? [])].sort()).toEqual(
      Object.keys(data)
        .filter((k) => k !== 'images')
        .sort(),
    );
    const ownValidate = ajv.compile({ $ref: `doc${mapping[type]}` });
    expect(ownValidate(sent)).toBe(true);
  });
});
