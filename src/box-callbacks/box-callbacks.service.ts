import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.service';
import { IngestionService } from '../recognition-records/ingestion.service';
import { IngestResult } from '../recognition-records/recognition-record.types';
import { AsyncRecognitionRecordDto } from './dto/async-recognition-record.dto';
import { toIngestCommand } from './recognition-record.mapper';

/** Turns validated wire records into domain commands and hands them to ingestion. */
@Injectable()
export class BoxCallbacksService {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly config: AppConfig,
  ) {}

  receive(records: AsyncRecognitionRecordDto[], sourceAddress: string | null): Promise<IngestResult> {
    const maxImageBytes = this.config.get('IMAGE_MAX_BYTES');
    return this.ingestion.ingest(records.map((r) => toIngestCommand(r, sourceAddress, { maxImageBytes })));
  }
}
