import { HttpException } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AddressFailureLimiter } from '../common/address-failure-limiter';
import { RETRY_AFTER_SECONDS } from '../common/body-rate';
import { addressKey, clientAddress } from '../common/client-address';
import type { AppConfig } from '../config/app-config.service';

export { RETRY_AFTER_SECONDS };

export interface IngestLimits {
  /** Pushes parsed and stored at once, counted from the moment their body has arrived. */
  maxInFlight: number;
  /** Bodies being received at once, in all and from one client address. */
  maxUploads: number;
  maxUploadsPerAddress: number;
  /** Failed box authentications (401) per client address and minute before its pushes get 429; 0 turns it off. */
  authFailuresPerMinute: number;
}

/**
 * Admission for box pushes, in two steps around the body parser. beforeBody() admits a body to be received: at most
 * maxUploads at once, maxUploadsPerAddress from one address, none from an address with too many failed
 * authentications (the minimum body rate is src/common/body-rate.ts, for every route). afterBody() then takes one of
 * the maxInFlight slots for parsing and storing. So a slow or stalled upload never holds a slot that real pushes need,
 * and memory for bodies stays bounded by about (maxUploads + maxInFlight) × BODY_LIMIT. Every refusal carries
 * Retry-After; the box treats it like any failure: it keeps the event and retries in order.
 */
export class IngestGate {
  private inFlight = 0;
  private uploads = 0;
  private readonly uploadsByAddress = new Map<string, number>();
  /** Ends the upload phase of a request whose body is being received. */
  private readonly receiving = new WeakMap<Request, () => void>();
  readonly authFailures: AddressFailureLimiter;

  constructor(readonly limits: IngestLimits) {
    this.authFailures = new AddressFailureLimiter(limits.authFailuresPerMinute);
  }

  static fromConfig(config: AppConfig): IngestGate {
    return new IngestGate({
      maxInFlight: config.get('INGEST_MAX_IN_FLIGHT'),
      maxUploads: config.get('INGEST_MAX_UPLOADS'),
      maxUploadsPerAddress: config.get('INGEST_MAX_UPLOADS_PER_ADDRESS'),
      authFailuresPerMinute: config.get('BOX_AUTH_FAILURES_PER_MINUTE'),
    });
  }

  get current(): { inFlight: number; uploads: number } {
    return { inFlight: this.inFlight, uploads: this.uploads };
  }

  /** Takes an in-flight slot, or returns null when all are taken; the returned function frees it (once). */
  tryEnter(): (() => void) | null {
    if (this.inFlight >= this.limits.maxInFlight) return null;
    this.inFlight++;
    return once(() => this.inFlight--);
  }

  /** Takes an upload place for this address, or says which limit refused it; the returned function frees it (once). */
  tryUpload(address: string | null): (() => void) | 'total' | 'address' {
    if (this.uploads >= this.limits.maxUploads) return 'total';
    const key = addressKey(address);
    const n = this.uploadsByAddress.get(key) ?? 0;
    if (n >= this.limits.maxUploadsPerAddress) return 'address';
    this.uploads++;
    this.uploadsByAddress.set(key, n + 1);
    return once(() => {
      this.uploads--;
      const left = (this.uploadsByAddress.get(key) ?? 1) - 1;
      if (left > 0) this.uploadsByAddress.set(key, left);
      else this.uploadsByAddress.delete(key);
    });
  }

  /** Before the body is read. Refusals close the connection, since the unread body is not drained. */
  beforeBody(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (req.method !== 'POST') return next();
      const address = clientAddress(req);
      const wait = this.authFailures.retryAfterSeconds(address);
      if (wait > 0) return next(refusal(res, 429, 'too many failed box authentications from this address; retry later', wait));
      // A 401 on this route is always a refused box credential (unknown box, wrong or missing token).
      res.once('finish', () => res.statusCode === 401 && this.authFailures.recordFailure(address));
      const upload = this.tryUpload(address);
      if (upload === 'total') return next(refusal(res, 503, 'too many uploads in progress; retry shortly'));
      if (upload === 'address') return next(refusal(res, 429, 'too many uploads in progress from this address; retry shortly'));
      this.receiving.set(req, upload); // frees the place once, whichever comes first
      res.once('finish', upload);
      res.once('close', upload); // also when the box hangs up mid-upload, so nothing is leaked
      next();
    };
  }

  /** After the body parser: the body has arrived, so it stops counting as an upload and takes an in-flight slot. */
  afterBody(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (req.method !== 'POST') return next();
      this.receiving.get(req)?.();
      this.receiving.delete(req);
      const release = this.tryEnter();
      if (!release) {
        res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
        return next(new HttpException({ message: 'too many pushes in progress; retry shortly' }, 503));
      }
      res.once('finish', release);
      res.once('close', release);
      next();
    };
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

function refusal(res: Response, status: 429 | 503, message: string, retryAfter = RETRY_AFTER_SECONDS): HttpException {
  res.setHeader('Retry-After', String(retryAfter));
  res.setHeader('Connection', 'close');
  return new HttpException({ message }, status);
}
