import { makeRng } from '../../scripts/simulator/images';

export const FEATURE_DIM = 512;

/**
 * Seeded synthetic people for face tests: each a random unit centre in R^512; a sighting is the centre plus Gaussian
 * noise of squared length `noise` (relative to the centre's), normalised. Two sightings of one person then have
 * cosine about 1/(1+noise); two people about 0.
 */
export function syntheticFaces(seed: number) {
  const rng = makeRng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
  const unit = (v: number[]) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  return {
    centres: (n: number) => Array.from({ length: n }, () => unit(Array.from({ length: FEATURE_DIM }, gauss))),
    sighting: (centre: number[], noise: number) => unit(centre.map((x) => x + gauss() * Math.sqrt(noise / FEATURE_DIM))),
  };
}

/** A feature as boxes send it: base64 of little-endian float32. */
export const featureBase64 = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');
