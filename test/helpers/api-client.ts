import { createHash } from 'node:crypto';
import { ApiKeysService } from '../../src/auth/api-keys.service';
import type { ApiRole } from '../../src/auth/roles';
import { CALLBACK_PATH, readFixture, TestApp } from './test-app';

export type Json = Record<string, unknown>;

/** A fresh key of the given role, made the way the CLI makes them. */
export async function createApiKey(t: TestApp, role: ApiRole, name = `${role}-test`): Promise<{ key: string; id: string }> {
  const { key, record } = await t.app.get(ApiKeysService).create(name, role, 'test');
  return { key, id: record.id };
}

export interface RecordSpec {
  box?: string;
  device?: string;
  identity?: string;
  name?: string;
  userType?: string;
  postAction?: string;
  /** Raw score as the box sends it (0-100). */
  score?: number;
  timestamp: number;
  /** Replace the spot image with undecodable base64 (a stored defect). */
  defective?: boolean;
  /** Start from a typical fixture, which carries real JPEG images. */
  withImages?: boolean;
}

/** A box push built from a fixture, with the fields the API filters on set as given. */
export function boxRecord(spec: RecordSpec): Json {
  const base = readFixture(spec.withImages ? 'typical/000000.json' : 'small/000000.json');
  const device = {
    ...(base.media_device_info as Json),
    media_device_id: spec.device ?? 'cam-1',
    media_device_name: `camera ${spec.device ?? 'cam-1'}`,
  };
  return {
    ...base,
    mq_license_key: spec.box ?? 'BOX-A',
    media_device_info: device,
    identity_id: spec.identity ?? 'p-1',
    identity_name: spec.name ?? `person ${spec.identity ?? 'p-1'}`,
    user_type: spec.userType ?? 'employee',
    post_action: spec.postAction ?? '0',
    score: spec.score ?? 90,
    timestamp: spec.timestamp,
    ...(spec.defective && { spot_image: 'not*base64' }),
  };
}

export async function push(t: TestApp, body: Json | Json[]): Promise<void> {
  const res = await t
    .http()
    .post(CALLBACK_PATH)
    .set('content-type', 'application/json')
    .send(body as object);
  if (res.status !== 200) throw new Error(`push failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Every string in a JSON value that looks like base64 and is longer than `max` (images, features). */
export function longBase64Strings(value: unknown, max = 256): string[] {
  const found: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      if (v.length > max && /^[A-Za-z0-9+/=_-]+$/.test(v.replace(/^data:[^,]*,/, ''))) found.push(v.slice(0, 40));
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return found;
}

/**
 * A box record whose face feature is its identity's own (a unit vector seeded by the identity id), so that different
 * identities do not look like one person to the persons module (every fixture record carries the same face).
 */
export function boxRecordWithOwnFace(spec: RecordSpec): Json {
  const record = boxRecord(spec);
  const seed = createHash('sha256')
    .update(spec.identity ?? 'p-1')
    .digest();
  let state = seed.readUInt32LE(0) || 1;
  const v = new Float32Array(512);
  for (let i = 0; i < v.length; i++) {
    // xorshift32: deterministic, and about uniform in -0.5..0.5 per component; normalised below.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    v[i] = (state >>> 0) / 2 ** 32 - 0.5;
  }
  const norm = Math.hypot(...v);
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  const attr = { ...(record.recognize_face_attr as Json), feature_base64_str: Buffer.from(v.buffer).toString('base64') };
  return { ...record, recognize_face_attr: attr };
}
