import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.service';
import { IngestionService } from '../ingestion/ingestion.service';
import { IngestResult } from '../ingestion/ingestion.types';
import { BoxAccessService, PushContext } from './box-access.service';
import type { ReceivedRecord } from './box-callback-body.pipe';
import { releaseImageText, toIngestCommand } from './recognition-record.mapper';

/** Checks the pushing box may push, then turns validated wire records into domain commands for ingestion. */
@Injectable()
export class BoxCallbacksService {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly access: BoxAccessService,
    private readonly config: AppConfig,
  ) {}

  async receive(records: ReceivedRecord[], ctx: PushContext): Promise<IngestResult> {
    // Mapped (images decoded) before the box's access is read from the database, so the base64 text can go while the
    // push waits for that read: a burst of big pushes otherwise holds all of it at once. A refused push decodes for
    // nothing, which costs about what parsing its body did.
    const opts = { maxImageBytes: this.config.get('IMAGE_MAX_BYTES'), receivedAt: Date.now() };
    const commands = records.map((r) => toIngestCommand(r, ctx.sourceAddress, opts));
    for (const r of records) releaseImageText(r);
    await this.access.authorize(
      records.map((r) => ({
        licenseKey: r.dto.mq_license_key,
        field: `${r.where ? `${r.where}.` : ''}${r.wireName('mq_license_key')}`,
      })),
      ctx,
    );
    return this.ingestion.ingest(commands);
  }
}
