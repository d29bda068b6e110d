import { Body, Controller, ForbiddenException, HttpCode, Param, Post, Req, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { BoxAccessDenied, PushContext } from './box-access.service';
import { BoxCallbackBodyPipe, ReceivedRecord } from './box-callback-body.pipe';
import { BoxCallbacksService } from './box-callbacks.service';

export const BOX_ACK = { code: 0, message: 'ok' } as const;

function sourceAddress(req: Request): string | null {
  const ip = req.ip ?? req.socket.remoteAddress ?? null;
  return ip?.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/**
 * The URL configured on the boxes. 200 means "stored durably": the box then moves its cursor.
 * Anything else makes it keep the event and retry, in order. A box with a callback secret pushes
 * to /box-callbacks/<token>/recognition-records.
 */
@Controller('box-callbacks')
export class BoxCallbacksController {
  constructor(private readonly service: BoxCallbacksService) {}

  @Post('recognition-records')
  @HttpCode(200)
  receive(@Body(BoxCallbackBodyPipe) records: ReceivedRecord[], @Req() req: Request): Promise<typeof BOX_ACK> {
    return this.store(records, { sourceAddress: sourceAddress(req), token: undefined });
  }

  @Post(':token/recognition-records')
  @HttpCode(200)
  receiveWithToken(
    @Param('token') token: string,
    @Body(BoxCallbackBodyPipe) records: ReceivedRecord[],
    @Req() req: Request,
  ): Promise<typeof BOX_ACK> {
    return this.store(records, { sourceAddress: sourceAddress(req), token });
  }

  private async store(records: ReceivedRecord[], ctx: PushContext): Promise<typeof BOX_ACK> {
    try {
      await this.service.receive(records, ctx);
    } catch (e) {
      if (e instanceof BoxAccessDenied) {
        const body = { message: e.message, field: e.field, reason: e.reason };
        throw e.kind === 'unauthenticated' ? new UnauthorizedException(body) : new ForbiddenException(body);
      }
      throw e;
    }
    return BOX_ACK;
  }
}
