import { Appearance, background, between, Box, crop, drawFace, encode, makeAppearance, makePortrait, makeRng, withComment } from './images';

export { makeJpeg, makeRng, withComment } from './images';

/**
 * The world the simulated boxes watch, made from a seed: people in the face library that every box carries
 * (they come back again and again, some far more often than others) and strangers that no library knows
 * until a box registers them (each box under its own id, so one stranger seen by three boxes becomes three
 * identities). Field values follow the vendor's "async recognition record" document (../shared/DESIGN.md).
 */
export interface Human {
  key: string;
  look: Appearance;
  /** The face's feature; each sighting is this plus noise, so the same person matches across records. */
  feature: Float32Array;
  seed: number;
}

export interface Person extends Human {
  id: string;
  name: string;
  userType: string;
}

export interface World {
  seed: number;
  people: Person[];
  strangers: Human[];
}

export interface SimulatedBox {
  index: number;
  licenseKey: string;
  devices: {
    media_device_id: string;
    media_device_type: string;
    media_device_ip: string;
    media_device_name: string;
    media_device_url: string;
  }[];
  /** The library people this box recognises. */
  identities: Person[];
  world: World;
  /** Strangers this box has registered: stranger key -> the box's identity id. */
  registered: Map<string, string>;
  /** Library photo version per identity (a 1002 update registers a new photo). */
  photoVersion: Map<string, number>;
  rng: () => number;
  seed: number;
}

const NAMES = [
  '张伟',
  '王芳',
  '李娜',
  '刘洋',
  '陈静',
  '杨帆',
  '赵磊',
  '黄敏',
  '周杰',
  '吴婷',
  '徐强',
  '孙丽',
  '马超',
  '朱琳',
  '胡军',
  '何雪',
];
const DEVICE_NAMES = ['前门设备', '后门设备', '大厅设备', '东门闸机', '西门闸机', '停车场入口', '电梯厅', '仓库入口'];
/** user_type mix of a library: mostly staff. */
const USER_TYPES: [string, number][] = [
  ['employee', 0.7],
  ['visitor', 0.15],
  ['vip', 0.08],
  ['blacklist', 0.07],
];
/** The vendor's stranger name ("stranger"). */
const STRANGER_NAME = '陌生人';

const pad = (v: number, n: number) => String(v).padStart(n, '0');
const hex = (rng: () => number, n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rng() * 16)]).join('');
const pick = <T>(rng: () => number, items: T[]): T => items[Math.floor(rng() * items.length)];

function weighted(rng: () => number, table: [string, number][]): string {
  let x = rng() * table.reduce((a, [, w]) => a + w, 0);
  for (const [v, w] of table) if ((x -= w) < 0) return v;
  return table[table.length - 1][0];
}

/** About normal, from four uniforms. */
const gauss = (rng: () => number) => (rng() + rng() + rng() + rng() - 2) * 1.7;

function normalised(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}

function makeHuman(key: string, seed: number): Human {
  const rng = makeRng(seed);
  return { key, seed, look: makeAppearance(rng), feature: normalised(Float32Array.from({ length: 512 }, () => gauss(rng))) };
}

/** A sighting of `human`: their feature plus camera noise (cosine about 0.9 to the registered one), L2-normalised. */
export function sightingFeature(human: Human, rng: () => number): string {
  const v = normalised(human.feature.map((x) => x + gauss(rng) * 0.022));
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

/** 512 little-endian float32, L2-normalised, base64: the box's feature_base64_str. */
export function makeFeature(rng: () => number): string {
  const v = normalised(Float32Array.from({ length: 512 }, () => gauss(rng)));
  return Buffer.from(v.buffer).toString('base64');
}

const worlds = new Map<string, World>();

export function makeWorld(seed: number, people = 16, strangers = 8): World {
  const key = `${seed}:${people}:${strangers}`;
  let world = worlds.get(key);
  if (!world) {
    const rng = makeRng(seed * 31 + 5);
    world = {
      seed,
      people: Array.from({ length: people }, (_, i) => ({
        ...makeHuman(`person-${i}`, Math.floor(rng() * 2 ** 31)),
        id: `0120${pad(i + 1, 4)}`,
        name: NAMES[i % NAMES.length] + (i >= NAMES.length ? String(Math.floor(i / NAMES.length) + 1) : ''),
        userType: weighted(rng, USER_TYPES),
      })),
      strangers: Array.from({ length: strangers }, (_, i) => makeHuman(`stranger-${i}`, Math.floor(rng() * 2 ** 31))),
    };
    worlds.set(key, world);
  }
  return world;
}

/** One box with its cameras, carrying the world's face library. */
export function makeBox(index: number, seed: number, options: { identities?: number } = {}): SimulatedBox {
  const rng = makeRng(seed * 7919 + index);
  const world = makeWorld(seed, options.identities ?? 16);
  // License keys look like the vendor's: NAAXWN, a serial, the activation time.
  const licenseKey = `NAAXWN${pad(index + 1, 4)}2021${pad(1 + Math.floor(rng() * 12), 2)}${pad(1 + Math.floor(rng() * 28), 2)}${pad(Math.floor(rng() * 24), 2)}${pad(Math.floor(rng() * 60), 2)}${pad(Math.floor(rng() * 60), 2)}`;
  const devices = Array.from({ length: 1 + Math.floor(rng() * 3) }, (_, d) => {
    const ip = `172.28.${10 + (index % 240)}.${20 + d}`; // payload data only, never contacted
    return {
      media_device_ip: ip,
      media_device_type: 'rtsp',
      media_device_name: DEVICE_NAMES[(index * 3 + d) % DEVICE_NAMES.length],
      media_device_id: hex(rng, 32),
      media_device_url: `rtsp://${ip}:554/h264/ch1/main/av_stream`,
    };
  });
  return { index, licenseKey, devices, identities: world.people, world, registered: new Map(), photoVersion: new Map(), rng, seed };
}

interface Sighting {
  scene: Buffer;
  face: Buffer;
  box: Box;
  point: number[];
}

/** Scene width 1280 gives the box's 1280x720 scenes; tests pass small widths to stay quick. */
const sightings = new Map<string, Sighting>();

/** How `human` appears in a camera: the scene with their face, the face crop cut from it, box and landmarks. */
function sightingOf(world: World, human: Human, sceneWidth: number): Sighting {
  const key = `${world.seed}:${human.key}:${sceneWidth}`;
  let s = sightings.get(key);
  if (!s) {
    const rng = makeRng(human.seed ^ (sceneWidth * 7919));
    const width = sceneWidth;
    const height = Math.round((width * 9) / 16);
    const c = background(rng, width, height);
    const w = Math.max(4, Math.round(height * between(rng, 0.14, 0.24)));
    const h = Math.max(5, Math.round(w * 1.25));
    const x1 = Math.floor(rng() * (width - w));
    const y1 = Math.floor(rng() * Math.max(1, height - h));
    const box: Box = [x1, y1, x1 + w, Math.min(height, y1 + h)];
    const point = drawFace(c, box, human.look, rng);
    const scene = encode(c, 85);
    // The face crop: the box with a margin, as the box cuts it from the scene.
    const mx = Math.round(w * 0.15);
    const cx = Math.max(0, x1 - mx);
    const cy = Math.max(0, y1 - mx);
    const face = encode(crop(c, cx, cy, Math.min(width, box[2] + mx) - cx, Math.min(height, box[3] + mx) - cy), 90);
    s = { scene, face, box, point };
    sightings.set(key, s);
  }
  return s;
}

const portraits = new Map<string, Buffer>();

/** The library photo of a person (version n after n face-library updates). */
function portraitOf(person: Person, version: number): Buffer {
  const key = `${person.seed}:${version}`;
  let p = portraits.get(key);
  if (!p) {
    p = makePortrait(makeRng(person.seed + version * 104729), person.look, 240, 320);
    portraits.set(key, p);
  }
  return p;
}

export type RecordKind = 'known' | 'face-update' | 'stranger';

export interface RecordOptions {
  sceneWidth?: number;
  /** Force what happens instead of drawing it (fixtures). */
  kind?: RecordKind;
  /** Index into the library people (kind known/face-update) or the strangers (kind stranger). */
  who?: number;
  device?: number;
}

/**
 * One v2.0 "async recognition record" as the box sends it: a library person (with the registered photo,
 * now and then a face-library update, 1002), or a stranger, registered by this box the first time it sees
 * them (1001, the face crop becomes their photo) and recognised as that stranger afterwards.
 */
export function makeRecord(box: SimulatedBox, timestamp: number, options: RecordOptions = {}): Record<string, unknown> {
  const rng = box.rng;
  const device = box.devices[options.device ?? Math.floor(rng() * box.devices.length)];
  const kind = options.kind ?? (rng() < 0.2 ? 'stranger' : rng() < 0.03 ? 'face-update' : 'known');
  const sceneWidth = options.sceneWidth ?? 1280;
  let human: Human;
  let fields: { identity_id: string; identity_name: string; user_type: string; post_action: string; score: number; reg_image?: Buffer };
  if (kind === 'stranger') {
    human = box.world.strangers[options.who ?? Math.floor(rng() * box.world.strangers.length)];
    const known = box.registered.get(human.key);
    const id = known ?? `09${pad(box.index + 1, 2)}${pad(box.registered.size + 1, 4)}`;
    if (!known) box.registered.set(human.key, id);
    fields = {
      identity_id: id,
      identity_name: STRANGER_NAME,
      user_type: 'stranger',
      post_action: known ? '0' : '1001',
      score: round1(known ? between(rng, 75, 95) : between(rng, 30, 70)),
    };
  } else {
    // Some people pass every day, others rarely: the square skews the draw towards the first ones.
    const person = box.identities[options.who ?? Math.floor(box.identities.length * rng() ** 2)];
    human = person;
    let version = box.photoVersion.get(person.id) ?? 0;
    if (kind === 'face-update') box.photoVersion.set(person.id, ++version);
    fields = {
      identity_id: person.id,
      identity_name: person.name,
      user_type: person.userType,
      post_action: kind === 'face-update' ? '1002' : '0',
      score: round1(between(rng, 80, 99.9)),
      reg_image: portraitOf(person, version),
    };
  }
  const seen = sightingOf(box.world, human, sceneWidth);
  const tag = `${box.licenseKey} ${device.media_device_id} ${timestamp}`;
  const face = withComment(seen.face, tag);
  // A newly registered stranger's library photo is the face crop the box just took.
  const reg = fields.post_action === '1001' ? face : fields.reg_image;
  return {
    api_version: '2.0',
    identity_id: fields.identity_id,
    identity_name: fields.identity_name,
    timestamp,
    score: fields.score,
    post_action: fields.post_action,
    user_type: fields.user_type,
    in_timestamp: timestamp - Math.floor(between(rng, 300, 4000)),
    out_timestamp: timestamp + Math.floor(between(rng, 100, 3000)),
    media_device_info: { ...device },
    mq_license_key: box.licenseKey,
    reg_image: reg ? reg.toString('base64') : '',
    spot_image: withComment(seen.scene, tag).toString('base64'),
    ir_image: '',
    recognize_face_image: face.toString('base64'),
    // Attribute detection is off on the vendor's boxes by default: the attributes arrive as null.
    recognize_face_attr: {
      gender: null,
      hat: null,
      box: seen.box,
      glasses: null,
      feature_base64_str: sightingFeature(human, rng),
      mask: null,
      expression: null,
      age: null,
      point: seen.point,
    },
  };
}

const round1 = (v: number) => Math.round(v * 10) / 10;
