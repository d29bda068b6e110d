import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { BoxCallbackBodyPipe } from './box-callback-body.pipe';
import { BoxCallbacksService } from './box-callbacks.service';
import { AsyncRecognitionRecordDto } from './dto/async-recognition-record.dto';

export const BOX_ACK = { code: 0, message: 'ok' } as const;

function sourceAddress(req: Request): string | null {
  const ip = req.ip ?? req.socket.remoteAddress ?? null;
  return ip?.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/**
 * The URL configured on the boxes. 200 means "stored durably": the box then moves its cursor.
 * Anything else makes it keep the event and retry, in order.
 */
@Controller('box-callbacks')
export class BoxCallbacksController {
  constructor(private readonly service: BoxCallbacksService) {}

  @Post('recognition-records')
  @HttpCode(200)
  async receive(@Body(BoxCallbackBodyPipe) records: AsyncRecognitionRecordDto[], @Req() req: Request): Promise<typeof BOX_ACK> {
    await this.service.receive(records, sourceAddress(req));
    return BOX_ACK;
  }
}
