import type { Request, Response } from 'express';

/** Seconds a refused client is told to wait (boxes retry every few seconds anyway). */
export const RETRY_AFTER_SECONDS = 1;

export interface BodyRateLimits {
  /** A body may take any time up to this; after it, it must have averaged at least minBytesPerSecond. */
  graceMs: number;
  /** 0 turns the check off. */
  minBytesPerSecond: number;
}

/**
 * Answers 408 and closes the connection once, after the grace period, the body has averaged less than the minimum
 * rate since the request began, so a trickled or stalled body cannot hold a connection and its buffer for minutes.
 * Checks only when the average could first fall short, given the bytes so far. Returns the function that stops
 * watching (call it once the body has arrived).
 */
function watchBodyRate(req: Request, res: Response, limits: BodyRateLimits): () => void {
  const { graceMs, minBytesPerSecond: rate } = limits;
  if (rate === 0) return () => undefined;
  const socket = req.socket;
  const started = Date.now();
  const bytesBefore = socket.bytesRead; // the body is all that arrives on this socket from now on
  const check = () => {
    const elapsed = Date.now() - started;
    const received = socket.bytesRead - bytesBefore;
    if (received * 1000 >= rate * elapsed) {
      timer = setTimeout(check, Math.max((received * 1000) / rate - elapsed, 50));
      return;
    }
    if (res.headersSent) return void socket.destroy();
    res.once('finish', () => socket.destroy());
    res
      .status(408)
      .set({ Connection: 'close', 'Retry-After': String(RETRY_AFTER_SECONDS) })
      .json({
        statusCode: 408,
        error: 'Request Timeout',
        code: 'request_timeout',
        message: `the body arrived at less than ${rate} bytes/s; retry`,
        field: 'body',
      });
  };
  let timer = setTimeout(check, graceMs);
  return () => clearTimeout(timer);
}

/** The same watch for every request that has a body, until the body has arrived or the answer is sent. */
export function bodyRateGuard(limits: BodyRateLimits) {
  return (req: Request, res: Response, next: () => void): void => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody || req.readableEnded) return next();
    const stop = watchBodyRate(req, res, limits);
    req.once('end', stop);
    res.once('finish', stop);
    res.once('close', stop);
    next();
  };
}
