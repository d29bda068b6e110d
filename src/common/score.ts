/**
 * Normalised scores keep 6 decimals: raw/100 in binary floating point carries noise (70.7 → 0.7070000000000001)
 * that would otherwise reach JSON, CSV and score filters. 6 decimals hold every 0-100 score with 4 decimals exactly.
 */
export function roundScore(value: number): number;
export function roundScore(value: number | null): number | null;
export function roundScore(value: number | null): number | null {
  return value === null ? null : Number(value.toFixed(6));
}
