import { Body, Controller, ForbiddenException, HttpCode, Param, Post, Req, UnauthorizedException } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiPayloadTooLargeResponse, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request } from 'express';
import { clientAddress } from '../common/client-address';
import { ErrorResponseDto } from '../common/error-response.dto';
import { MetricsService } from '../metrics/metrics.service';
import { BoxAccessDenied, PushContext } from './box-access.service';
import { BoxCallbackBodyPipe, ReceivedRecord } from './box-callback-body.pipe';
import { BoxCallbacksService } from './box-callbacks.service';

export const BOX_ACK = { code: 0, message: 'ok' } as const;

/**
 * The URL configured on the boxes. 200 means "stored durably": the box then moves its cursor.
 * Anything else makes it keep the event and retry, in order. A box with a callback secret pushes
 * to /box-callbacks/<token>/recognition-records.
 */
const PUSH_DOC =
  'One "async recognition record" (v2.0 or legacy V5 names) or a JSON array of up to 100, as the box sends it. ' +
  '200 only once stored durably (a resent event is answered 200 and changes nothing). A record that identifies ' +
  'itself is stored even with lesser defects, which are listed on the record.';

function BoxPushDocs(summary: string): MethodDecorator {
  return (target, key, descriptor) => {
    ApiOperation({ summary, description: PUSH_DOC })(target, key, descriptor);
    ApiBody({ description: 'Recognition record(s) in the box wire format (see DESIGN.md).', schema: { oneOf: [{ type: 'object' }, { type: 'array', maxItems: 100, items: { type: 'object' } }] } })(target, key, descriptor);
    ApiOkResponse({ description: 'Stored (or already stored).', schema: { example: BOX_ACK } })(target, key, descriptor);
    ApiBadRequestResponse({ description: 'Not JSON, or a record lacking an identifying field (named in `field`).', type: ErrorResponseDto })(target, key, descriptor);
    ApiUnauthorizedResponse({ description: 'Unknown box (BOX_AUTH_MODE=registered) or wrong callback token.', type: ErrorResponseDto })(target, key, descriptor);
    ApiForbiddenResponse({ description: 'Disabled box, or source address outside its allowed networks.', type: ErrorResponseDto })(target, key, descriptor);
    ApiPayloadTooLargeResponse({ description: 'Body over BODY_LIMIT.', type: ErrorResponseDto })(target, key, descriptor);
    ApiServiceUnavailableResponse({ description: 'Too many ingests in flight (INGEST_MAX_IN_FLIGHT); retry after Retry-After.', type: ErrorResponseDto })(target, key, descriptor);
  };
}

@ApiTags('box callbacks')
@Controller('box-callbacks')
export class BoxCallbacksController {
  constructor(
    private readonly service: BoxCallbacksService,
    private readonly metrics: MetricsService,
  ) {}

  @Post('recognition-records')
  @HttpCode(200)
  @BoxPushDocs('Receive recognition records pushed by a box')
  receive(@Body(BoxCallbackBodyPipe) records: ReceivedRecord[], @Req() req: Request): Promise<typeof BOX_ACK> {
    return this.store(records, req, undefined);
  }

  @Post(':token/recognition-records')
  @HttpCode(200)
  @BoxPushDocs('Receive recognition records from a box that has a callback secret (token in the URL)')
  receiveWithToken(
    @Param('token') token: string,
    @Body(BoxCallbackBodyPipe) records: ReceivedRecord[],
    @Req() req: Request,
  ): Promise<typeof BOX_ACK> {
    return this.store(records, req, token);
  }

  private async store(records: ReceivedRecord[], req: Request, token: string | undefined): Promise<typeof BOX_ACK> {
    const ctx: PushContext = {
      sourceAddress: clientAddress(req),
      token,
      onRecognised: (licenseKey) => this.metrics.attributePush(req, licenseKey),
    };
    try {
      await this.service.receive(records, ctx);
    } catch (e) {
      if (e instanceof BoxAccessDenied) {
        if (e.registeredLicenseKey !== null) this.metrics.attributePush(req, e.registeredLicenseKey);
        const body = { message: e.message, field: e.field, reason: e.reason };
        throw e.kind === 'unauthenticated' ? new UnauthorizedException(body) : new ForbiddenException(body);
      }
      throw e;
    }
    return BOX_ACK;
  }
}
