import { HttpException, HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Seconds a refused box is told to wait; boxes retry every few seconds anyway. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * Caps the box pushes being read, parsed and stored at once. It runs before the body is read, so
 * memory stays bounded by about maxInFlight × BODY_LIMIT; beyond the cap a push gets 503 with
 * Retry-After, which the box treats like any failure: it keeps the event and retries in order.
 */
export class IngestGate {
  private inFlight = 0;

  constructor(readonly maxInFlight: number) {}

  get current(): number {
    return this.inFlight;
  }

  /** Takes a slot, or returns null when all are taken; the returned function frees it (once). */
  tryEnter(): (() => void) | null {
    if (this.inFlight >= this.maxInFlight) return null;
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (req.method !== 'POST') return next();
      const release = this.tryEnter();
      if (!release) {
        res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
        return next(
          new HttpException(
            { statusCode: 503, error: 'Service Unavailable', message: 'too many pushes in progress; retry shortly' },
            HttpStatus.SERVICE_UNAVAILABLE,
          ),
        );
      }
      // 'close' also fires when the box hangs up mid-upload, so a slot is never leaked.
      res.once('finish', release);
      res.once('close', release);
      next();
    };
  }
}
