import * as path from 'node:path';
import { SHA256_HEX } from './image-store';

/** Where the image named by `sha256` lives under `root`: <root>/ab/cd/<sha256>. */
export function imagePath(root: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new Error('invalid image key');
  return path.join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}
