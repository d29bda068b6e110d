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

export const between = (rng: () => number, lo: number, hi: number): number => lo + rng() * (hi - lo);

/** RGBA pixels, as jpeg-js encodes them. */
export interface Canvas {
  data: Buffer;
  width: number;
  height: number;
}

type Rgb = [number, number, number];

/** Smooth value noise in [0,1) sampled on a grid of `cell` pixels: shading, walls, floors. */
function valueNoise(rng: () => number, width: number, height: number, cell: number): (x: number, y: number) => number {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => rng());
  return (x, y) => {
    const gx = x / cell;
    const gy = y / cell;
    const ix = Math.floor(gx);
    const iy = Math.floor(gy);
    const fx = (gx - ix) * (gx - ix) * (3 - 2 * (gx - ix));
    const fy = (gy - iy) * (gy - iy) * (3 - 2 * (gy - iy));
    const a = grid[iy * gw + ix];
    const b = grid[iy * gw + ix + 1];
    const c = grid[(iy + 1) * gw + ix];
    const d = grid[(iy + 1) * gw + ix + 1];
    return (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
  };
}

/** A camera-like background: shaded surfaces between two colours, a few flat objects (doors, panels), sensor grain. */
export function background(rng: () => number, width: number, height: number): Canvas {
  const data = Buffer.alloc(width * height * 4);
  const coarse = valueNoise(rng, width, height, Math.max(2, width / 4));
  const fine = valueNoise(rng, width, height, Math.max(2, width / 24));
  const dark: Rgb = [20 + rng() * 60, 20 + rng() * 60, 20 + rng() * 60];
  const light: Rgb = [150 + rng() * 100, 150 + rng() * 100, 150 + rng() * 100];
  const objects = Array.from({ length: 6 }, () => {
    const w = width * between(rng, 0.05, 0.3);
    const h = height * between(rng, 0.1, 0.6);
    return { x: rng() * width - w / 2, y: rng() * height - h / 2, w, h, c: [rng() * 255, rng() * 255, rng() * 255] as Rgb };
  });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = 0.7 * coarse(x, y) + 0.3 * fine(x, y);
      let c: Rgb = [dark[0] + (light[0] - dark[0]) * t, dark[1] + (light[1] - dark[1]) * t, dark[2] + (light[2] - dark[2]) * t];
      for (const o of objects)
        if (x >= o.x && x < o.x + o.w && y >= o.y && y < o.y + o.h)
          c = [o.c[0] * (0.8 + 0.4 * t), o.c[1] * (0.8 + 0.4 * t), o.c[2] * (0.8 + 0.4 * t)];
      const grain = (rng() - 0.5) * 10;
      const i = (y * width + x) * 4;
      data[i] = clamp(c[0] + grain);
      data[i + 1] = clamp(c[1] + grain);
      data[i + 2] = clamp(c[2] + grain);
      data[i + 3] = 255;
    }
  }
  return { data, width, height };
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

function ellipse(c: Canvas, cx: number, cy: number, rx: number, ry: number, colour: Rgb, shade = 0.2): void {
  for (let y = Math.max(0, Math.floor(cy - ry)); y <= Math.min(c.height - 1, Math.ceil(cy + ry)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rx)); x <= Math.min(c.width - 1, Math.ceil(cx + rx)); x++) {
      const dx = (x - cx) / Math.max(rx, 0.5);
      const dy = (y - cy) / Math.max(ry, 0.5);
      const d = dx * dx + dy * dy;
      if (d > 1) continue;
      const i = (y * c.width + x) * 4;
      for (let k = 0; k < 3; k++) c.data[i + k] = clamp(colour[k] * (1 - shade * d));
    }
  }
}

/** How a person looks: skin and hair colour, face proportions. Fixed per person, so they look the same each visit. */
export interface Appearance {
  skin: Rgb;
  hair: Rgb;
  /** Eye distance as a share of the face width. */
  eyes: number;
}

export function makeAppearance(rng: () => number): Appearance {
  const s = between(rng, 0.55, 1);
  return {
    skin: [235 * s, 190 * s, 160 * s],
    hair: [between(rng, 10, 90), between(rng, 10, 70), between(rng, 10, 50)],
    eyes: between(rng, 0.32, 0.4),
  };
}

export type Box = [number, number, number, number];

/**
 * Draws a face filling `box` ([x1,y1,x2,y2]) and returns its five landmarks as the box reports them
 * ([left eye x,y, right eye, nose tip, left mouth corner, right mouth corner]), at the features drawn.
 */
export function drawFace(c: Canvas, box: Box, look: Appearance, rng: () => number): number[] {
  const [x1, y1, x2, y2] = box;
  const w = x2 - x1;
  const h = y2 - y1;
  const cx = x1 + w / 2 + between(rng, -0.04, 0.04) * w; // a slight turn of the head
  ellipse(c, x1 + w / 2, y1 + h * 0.3, w * 0.5, h * 0.32, look.hair, 0.1);
  ellipse(c, x1 + w / 2, y1 + h * 0.54, w * 0.44, h * 0.46, look.skin, 0.25);
  const eyeY = y1 + h * between(rng, 0.4, 0.44);
  const half = (look.eyes * w) / 2;
  const points = [
    [cx - half, eyeY + between(rng, -0.01, 0.01) * h],
    [cx + half, eyeY + between(rng, -0.01, 0.01) * h],
    [cx + between(rng, -0.02, 0.02) * w, y1 + h * between(rng, 0.58, 0.62)],
    [cx - half * 0.8, y1 + h * between(rng, 0.74, 0.78)],
    [cx + half * 0.8, y1 + h * between(rng, 0.74, 0.78)],
  ];
  const dark: Rgb = [35, 25, 25];
  ellipse(c, points[0][0], points[0][1], w * 0.07, h * 0.03, dark, 0);
  ellipse(c, points[1][0], points[1][1], w * 0.07, h * 0.03, dark, 0);
  ellipse(
    c,
    points[2][0],
    points[2][1] - h * 0.04,
    w * 0.04,
    h * 0.06,
    [look.skin[0] * 0.8, look.skin[1] * 0.75, look.skin[2] * 0.75],
    0.1,
  );
  ellipse(c, (points[3][0] + points[4][0]) / 2, points[3][1], half * 0.85, h * 0.025, [150, 60, 60], 0);
  return points.flat().map((v) => Math.round(v * 1e4) / 1e4);
}

export function crop(c: Canvas, x: number, y: number, width: number, height: number): Canvas {
  const data = Buffer.alloc(width * height * 4);
  for (let row = 0; row < height; row++)
    c.data.copy(data, row * width * 4, ((y + row) * c.width + x) * 4, ((y + row) * c.width + x + width) * 4);
  return { data, width, height };
}

export function encode(c: Canvas, quality = 80): Buffer {
  return Buffer.from(jpeg.encode({ data: c.data, width: c.width, height: c.height }, quality).data);
}

/** A real baseline JPEG of a camera-like background, every one distinct. */
export function makeJpeg(rng: () => number, width: number, height: number, quality = 75): Buffer {
  return encode(background(rng, width, height), quality);
}

/** A registered library photo: one face, frontal, on a plain background. */
export function makePortrait(rng: () => number, look: Appearance, width: number, height: number): Buffer {
  const c = background(rng, width, height);
  const w = Math.round(width * 0.6);
  const x1 = Math.round((width - w) / 2);
  const y1 = Math.round(height * 0.18);
  drawFace(c, [x1, y1, x1 + w, y1 + Math.round(w * 1.25)], look, rng);
  return encode(c, 85);
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
