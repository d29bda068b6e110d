import * as jpeg from 'jpeg-js';

/** Small deterministic PRNG (mulberry32), so a seed reproduces a run. */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A real baseline JPEG: a smooth gradient with a few blocks, so every image is distinct and decodable. */
export function makeJpeg(rng: () => number, width: number, height: number, quality = 75): Buffer {
  const data = Buffer.alloc(width * height * 4);
  const [r0, g0, b0] = [rng() * 255, rng() * 255, rng() * 255];
  const blocks = Array.from({ length: 4 }, () => ({
    x: rng() * width,
    y: rng() * height,
    s: 4 + rng() * (width / 3),
    c: [rng() * 255, rng() * 255, rng() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      let c = [(r0 + (x * 97) / width) % 256, (g0 + (y * 89) / height) % 256, (b0 + ((x + y) * 53) / (width + height)) % 256];
      for (const b of blocks) if (Math.abs(x - b.x) < b.s && Math.abs(y - b.y) < b.s) c = b.c;
      data[i] = c[0];
      data[i + 1] = c[1];
      data[i + 2] = c[2];
      data[i + 3] = 255;
    }
  }
  return Buffer.from(jpeg.encode({ data, width, height }, quality).data);
}

/**
 * A JPEG with a comment segment (COM) carrying `text` right after SOI: still a valid image, but with
 * distinct bytes. Encoding with jpeg-js costs tens of milliseconds, so records reuse a small pool of
 * encoded pictures made unique this way.
 */
export function withComment(image: Buffer, text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const header = Buffer.from([0xff, 0xfe, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([image.subarray(0, 2), header, body, image.subarray(2)]);
}

interface ImagePool {
  faces: Buffer[];
  scenes: Buffer[];
}

const pools = new Map<string, ImagePool>();

function imagePool(seed: number, sceneWidth: number): ImagePool {
  const key = `${seed}:${sceneWidth}`;
  let pool = pools.get(key);
  if (!pool) {
    const rng = makeRng(seed * 31 + sceneWidth);
    pool = {
      faces: Array.from({ length: 8 }, () => makeJpeg(rng, 64, 64)),
      scenes: Array.from({ length: 4 }, () => makeJpeg(rng, sceneWidth, Math.round((sceneWidth * 9) / 16))),
    };
    pools.set(key, pool);
  }
  return pool;
}

const portraits = new Map<number, Buffer[]>();

/** Registered library photos (portrait 96x128). */
function portraitPool(seed: number): Buffer[] {
  let pool = portraits.get(seed);
  if (!pool) {
    const rng = makeRng(seed * 17 + 3);
    pool = Array.from({ length: 4 }, () => makeJpeg(rng, 96, 128));
    portraits.set(seed, pool);
  }
  return pool;
}

const pick = <T>(rng: () => number, items: T[]): T => items[Math.floor(rng() * items.length)];

/** 512 little-endian float32, L2-normalised, base64: the box's feature_base64_str. */
export function makeFeature(rng: () => number): string {
  const v = new Float32Array(512);
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    v[i] = rng() * 2 - 1;
    norm += v[i] * v[i];
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return Buffer.from(v.buffer).toString('base64');
}

export interface SimulatedBox {
  licenseKey: string;
  devices: { media_device_id: string; media_device_type: string; media_device_ip: string; media_device_name: string; media_device_url: string }[];
  identities: { id: string; name: string; userType: string; registered: string }[];
  rng: () => number;
  seed: number;
}

const NAMES = ['Wang Fang', 'Li Na', 'Zhang Wei', 'Liu Yang', 'Chen Jing', 'Yang Fan', 'Zhao Lei', 'Huang Min', 'Zhou Jie', 'Wu Ting'];
const USER_TYPES = ['employee', 'employee', 'employee', 'visitor', 'vip', 'blacklist'];
const DEVICE_NAMES = ['Front door', 'Back door', 'Lobby', 'East gate', 'Car park'];

/** One box with its cameras and the people its face library knows. */
export function makeBox(index: number, seed: number, options: { identities?: number } = {}): SimulatedBox {
  const rng = makeRng(seed * 7919 + index);
  const serial = String(Math.floor(rng() * 1e6)).padStart(6, '0');
  const devices = Array.from({ length: 1 + Math.floor(rng() * 3) }, (_, d) => {
    const ip = `192.168.${10 + index}.${20 + d}`;
    return {
      media_device_id: `${index + 1}${String(d + 1).padStart(2, '0')}`,
      media_device_type: 'rtsp',
      media_device_ip: ip,
      media_device_name: DEVICE_NAMES[d % DEVICE_NAMES.length],
      media_device_url: `rtsp://${ip}:554/stream1`,
    };
  });
  const identities = Array.from({ length: options.identities ?? 8 }, (_, i) => ({
    id: `sim-${seed}-${index}-${i}`,
    name: NAMES[(index + i) % NAMES.length],
    userType: USER_TYPES[i % USER_TYPES.length],
    registered: withComment(pick(rng, portraitPool(seed)), `identity sim-${seed}-${index}-${i}`).toString('base64'),
  }));
  return { licenseKey: `SIMBOX${String(index + 1).padStart(4, '0')}${serial}${seed}`, devices, identities, rng, seed };
}

/**
 * One v2.0 "async recognition record" as the box sends it: a known person (with the registered photo
 * and the occasional face-library update) or a stranger newly registered on the box.
 */
export function makeRecord(box: SimulatedBox, timestamp: number, options: { sceneWidth?: number } = {}): Record<string, unknown> {
  const rng = box.rng;
  const device = box.devices[Math.floor(rng() * box.devices.length)];
  const stranger = rng() < 0.1;
  const person = box.identities[Math.floor(rng() * box.identities.length)];
  const identityId = stranger ? `stranger-${timestamp}-${Math.floor(rng() * 1e6)}` : person.id;
  const pool = imagePool(box.seed, options.sceneWidth ?? 320);
  const tag = `${box.licenseKey} ${device.media_device_id} ${timestamp} ${Math.floor(rng() * 1e9)}`;
  const face = withComment(pick(rng, pool.faces), tag);
  const scene = withComment(pick(rng, pool.scenes), tag);
  const postAction = stranger ? '1001' : rng() < 0.05 ? '1002' : '0';
  const score = 70 + rng() * 29;
  const x1 = Math.floor(rng() * 200);
  const y1 = Math.floor(rng() * 100);
  return {
    api_version: '2.0',
    identity_id: identityId,
    identity_name: stranger ? '' : person.name,
    timestamp,
    score: Math.round(score * 100) / 100,
    post_action: postAction,
    user_type: stranger ? 'stranger' : person.userType,
    in_timestamp: timestamp - 1500,
    out_timestamp: timestamp,
    media_device_info: device,
    mq_license_key: box.licenseKey,
    reg_image: stranger ? '' : person.registered,
    spot_image: scene.toString('base64'),
    ir_image: '',
    recognize_face_image: face.toString('base64'),
    recognize_face_attr: {
      point: Array.from({ length: 10 }, () => Math.round(rng() * 640 * 10) / 10),
      box: [x1, y1, x1 + 64, y1 + 64],
      mask: rng() < 0.2 ? 'mask' : 'no_mask',
      gender: rng() < 0.5 ? 'male' : 'female',
      hat: null,
      age: String(18 + Math.floor(rng() * 50)),
      glasses: rng() < 0.3 ? 'glasses' : 'no_glasses',
      expression: null,
      feature_base64_str: makeFeature(rng),
    },
  };
}
