import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SmallFilesystem {
  dir: string;
  /** Takes every free byte with a ballast file: the next write that needs space fails with ENOSPC. */
  fill(): void;
  /** Removes the ballast: space is back. */
  free(): void;
  unmount(): void;
}

/**
 * Whether tests that mount a tmpfs run: mounting needs root. Under CI=true they always run (and fail without root),
 * so disk-full coverage never goes missing silently there; elsewhere they are skipped with a warning.
 */
export const canMountSmallFilesystems = process.getuid?.() === 0 || process.env.CI === 'true';
if (!canMountSmallFilesystems) {
  console.warn('disk-full tests skipped: mounting a tmpfs needs root (CI runs them as root)');
}

/** describe() for tests that mount a tmpfs (see canMountSmallFilesystems). */
export const describeWithMount = canMountSmallFilesystems ? describe : describe.skip;
/** it() for tests that mount a tmpfs (see canMountSmallFilesystems). */
export const itWithMount = canMountSmallFilesystems ? it : it.skip;

/**
 * A tmpfs of `bytes` mounted on a fresh directory, for disk-full tests. Mounting needs root (CI runs the tests as
 * root); without it this fails with the reason.
 */
export function mountSmallFilesystem(bytes: number): SmallFilesystem {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-small-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    fs.rmdirSync(dir);
    const stderr = String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim();
    throw new Error(`disk-full tests mount a tmpfs and must run as root (uid ${process.getuid?.()}): ${stderr}`);
  }
  const ballast = path.join(dir, 'ballast');
  return {
    dir,
    fill() {
      const fd = fs.openSync(ballast, 'a');
      try {
        // Large chunks first, then single pages (tmpfs allocates pages), until nothing more fits.
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
          const chunk = Buffer.alloc(size, 0x5a);
          for (;;) {
            try {
              fs.writeSync(fd, chunk);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw e;
            }
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    },
    free() {
      fs.rmSync(ballast, { force: true });
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      fs.rmdirSync(dir);
    },
  };
}
