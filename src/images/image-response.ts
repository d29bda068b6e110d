import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { imageNoLongerStored } from './image-errors';
import { ImageStore } from './image-store';

/**
 * Sends a content-addressed image: its sha256 is a perfect ETag and the bytes never change, so
 * clients may cache it for good. "private" keeps shared caches (proxies) from holding biometric images.
 */
export async function sendStoredImage(
  store: ImageStore,
  req: Request,
  res: Response,
  image: { sha256: string; contentType: string },
): Promise<void> {
  const etag = `"${image.sha256}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
    res.status(304).end();
    return;
  }
  const stream = await store.stream(image.sha256);
  if (!stream) throw imageNoLongerStored();
  res.status(200);
  res.setHeader('Content-Type', image.contentType);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  await pipeline(stream, res);
}
