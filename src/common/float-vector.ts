/** A stored feature vector (little-endian float32, as the boxes compute it) as numbers. */
export function floatsOf(bytes: Buffer | Uint8Array): number[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const out: number[] = [];
  for (let i = 0; i + 4 <= buf.length; i += 4) out.push(buf.readFloatLE(i));
  return out;
}
