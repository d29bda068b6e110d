import { applyDecorators, Controller, createParamDecorator, ExecutionContext, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiRequestTimeoutResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../auth/auth.decorators';
import { clientAddress } from '../common/client-address';
import { ErrorResponseDto } from '../common/error-response.dto';
import { MetricsService } from '../metrics/metrics.service';
import { BoxAccessDenied, PushContext } from './box-access.service';
import { BoxCallbackBodyPipe, ReceivedRecord } from './box-callback-body.pipe';
import { BoxCallbacksService } from './box-callbacks.service';
import { BOX_PUSH_BODY_SCHEMA, BOX_PUSH_RULES } from './wire-format.openapi';

export const BOX_ACK = { code: 0, message: 'ok' } as const;

/**
 * The two push routes below (with and without the callback token), as request paths: there the JSON parser leaves
 * image values as LiftedText for the pipe and mapper (src/bootstrap.ts). Checked against the routes in a spec.
 */
export const BOX_PUSH_ROUTE = /^\/box-callbacks\/(?:[^/]+\/)?recognition-records\/?$/i;

/**
 * The URL configured on the boxes. 200 means "stored durably": the box then moves its cursor.
 * Anything else makes it keep the event and retry, in order. A box with a callback secret pushes
 * to /box-callbacks/<token>/recognition-records.
 */
function BoxPushDocs(operationId: string, summary: string): MethodDecorator {
  return applyDecorators(
    ApiOperation({ operationId, summary, description: BOX_PUSH_RULES }),
    ApiConsumes('application/json'),
    ApiBody({ description: 'Recognition record(s) in the box wire format.', schema: BOX_PUSH_BODY_SCHEMA }),
    ApiOkResponse({
      description: 'Stored (or already stored).',
      schema: {
        type: 'object',
        properties: { code: { type: 'integer', enum: [0] }, message: { type: 'string', enum: ['ok'] } },
        example: BOX_ACK,
      },
    }),
    ApiBadRequestResponse({
      description: 'Not JSON, or a record lacking an identifying field (named in `field`).',
      type: ErrorResponseDto,
    }),
    ApiUnauthorizedResponse({ description: 'Unknown box (BOX_AUTH_MODE=registered) or wrong callback token.', type: ErrorResponseDto }),
    ApiForbiddenResponse({ description: 'Disabled box, or source address outside its allowed networks.', type: ErrorResponseDto }),
    ApiPayloadTooLargeResponse({ description: 'Body over BODY_LIMIT.', type: ErrorResponseDto }),
    ApiUnsupportedMediaTypeResponse({
      description: 'Compressed body (Content-Encoding) or a charset other than UTF-8.',
      type: ErrorResponseDto,
    }),
    ApiRequestTimeoutResponse({
      description: 'The body arrived slower than INGEST_BODY_MIN_BYTES_PER_SECOND after INGEST_BODY_GRACE_MS; the connection is closed.',
      type: ErrorResponseDto,
    }),
    ApiTooManyRequestsResponse({
      description:
        'Too many bodies arriving from this address (INGEST_MAX_UPLOADS_PER_ADDRESS), or too many 401s from it this minute (BOX_AUTH_FAILURES_PER_MINUTE); retry after Retry-After.',
      type: ErrorResponseDto,
    }),
    ApiServiceUnavailableResponse({
      description:
        'Nothing was stored; retry after Retry-After. Too many uploads or pushes in progress (INGEST_MAX_UPLOADS, INGEST_MAX_IN_FLIGHT), ' +
        'the database or image store is out of space (`reason: storage_full`), or the database is unavailable (`reason: database`).',
      type: ErrorResponseDto,
    }),
  );
}

/**
 * The push's body and URL token, read through custom parameter decorators: the global REST validation pipe passes
 * those through untouched (src/common/api-validation.pipe.ts), so a push meets only the hostile-input checks and
 * BoxCallbackBodyPipe, whose answers the boxes depend on. The body is taken off the request: the records handed on
 * are then its only holders, so their images' base64 text can be freed once decoded (releaseImageText), a legacy
 * record's original too.
 */
const PushBody = createParamDecorator((_: unknown, ctx: ExecutionContext): unknown => {
  const req = ctx.switchToHttp().getRequest<Request>();
  const body: unknown = req.body;
  req.body = undefined;
  return body;
});
const CallbackToken = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string => ctx.switchToHttp().getRequest<Request<{ token: string }>>().params.token,
);

/** No API keys here: boxes are admitted by src/box-callbacks/box-access.service.ts. */
@Public()
@ApiTags('box callbacks')
@Controller('box-callbacks')
export class BoxCallbacksController {
  constructor(
    private readonly service: BoxCallbacksService,
    private readonly metrics: MetricsService,
  ) {}

  @Post('recognition-records')
  @HttpCode(200)
  @BoxPushDocs('receiveRecords', 'Receive recognition records pushed by a box')
  receive(@PushBody(BoxCallbackBodyPipe) records: ReceivedRecord[], @Req() req: Request): Promise<typeof BOX_ACK> {
    return this.store(records, req, undefined);
  }

  @Post(':token/recognition-records')
  @HttpCode(200)
  @BoxPushDocs('receiveRecordsWithToken', 'Receive recognition records from a box that has a callback secret (token in the URL)')
  @ApiParam({
    name: 'token',
    type: String,
    description: "The box's callback secret (npm run box-access); a wrong one gets 401.",
    example: 'callback-secret',
  })
  receiveWithToken(
    @CallbackToken() token: string,
    @PushBody(BoxCallbackBodyPipe) records: ReceivedRecord[],
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
      // A refused registered box is still counted under its own label; HttpErrorFilter answers 401/403.
      if (e instanceof BoxAccessDenied && e.registeredLicenseKey !== null) this.metrics.attributePush(req, e.registeredLicenseKey);
      throw e;
    }
    return BOX_ACK;
  }
}
