import { BadRequestException, Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { API_KEY_SECURITY, AuthenticatedBy, BEARER_SECURITY, Principal, STREAM_TOKEN_SECURITY } from '../../auth/auth.decorators';
import type { ApiPrincipal } from '../../auth/roles';
import { ErrorResponseDto } from '../../common/error-response.dto';
import { AppConfig } from '../../config/app-config.service';
import { PUBLIC_EVENT_DTOS } from '../event-envelope';
import { SSE_FORMAT } from '../event-envelope.openapi';
import type { FeedEvent, FeedFilter } from '../event-feed.service';
import { EventStreamQueryDto, StreamTokenDto, StreamTokenRequestDto } from './dto/event-stream-query.dto';
import { EventStreamService, StreamHandle } from './event-stream.service';
import { StreamAuthGuard, StreamRequest } from './stream-auth.guard';
import { StreamTokensService } from './stream-tokens.service';

/** A client this far behind (bytes queued in the socket) is cut off; it resumes with Last-Event-ID. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

function sseFrame(e: FeedEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.envelope)}\n\n`;
}

@ApiTags('events')
// The public event DTOs, referenced by the EventEnvelope schemas (SSE frames and webhook bodies).
@ApiExtraModels(...PUBLIC_EVENT_DTOS)
@Controller('events')
export class EventStreamController {
  constructor(
    private readonly streams: EventStreamService,
    private readonly tokens: StreamTokensService,
    private readonly config: AppConfig,
  ) {}

  @Post('stream-tokens')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'createStreamToken',
    summary:
      'A short-lived token for GET /events/stream?token=…, for clients that cannot send headers (a browser EventSource), ' +
      "so no long-lived API key goes into URLs. It carries the caller's role and these filters.",
  })
  @ApiCreatedResponse({ type: StreamTokenDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A filter or ttlSeconds is invalid; field names it.' })
  async issueToken(@Body() body: StreamTokenRequestDto, @Principal() principal: ApiPrincipal): Promise<StreamTokenDto> {
    const issued = await this.tokens.issue(
      principal,
      { types: body.type, box: body.box, userTypes: body.user_type },
      body.ttlSeconds ?? 300,
    );
    return { ...issued, streamUrl: `/events/stream?token=${encodeURIComponent(issued.token)}` };
  }

  @Get('stream')
  // An API key, or a stream token (?token=) for browsers' EventSource, which cannot send headers.
  @AuthenticatedBy(StreamAuthGuard)
  // Decorators apply bottom-up: the document lists api-key, bearer, then the stream token.
  @ApiSecurity(STREAM_TOKEN_SECURITY)
  @ApiBearerAuth(BEARER_SECURITY)
  @ApiSecurity(API_KEY_SECURITY)
  @ApiResponse({
    status: 401,
    type: ErrorResponseDto,
    description: 'Missing, unknown or revoked API key, or an unknown or expired stream token.',
  })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: "The key's role is not allowed here." })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Rate limit (API_RATE_LIMIT_PER_MINUTE) exceeded; see Retry-After.' })
  @ApiOperation({
    operationId: 'streamEvents',
    summary: 'Server-sent events: domain events as they are committed; resumable with Last-Event-ID.',
    description: SSE_FORMAT,
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id.',
    schema: { type: 'string', pattern: '^\\d{1,15}$' },
  })
  @ApiOkResponse({
    description: 'An endless text/event-stream of EventEnvelope frames.',
    content: {
      'text/event-stream': {
        schema: { type: 'string', example: 'id: 42\nevent: recognition.recorded\ndata: {"id":"42","type":"recognition.recorded",…}\n\n' },
      },
    },
  })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A filter or Last-Event-ID is invalid; field names it.' })
  async stream(@Query() query: EventStreamQueryDto, @Req() req: StreamRequest, @Res() res: Response): Promise<void> {
    const lastEventId = parseLastEventId(req.headers['last-event-id'], query.last_event_id);
    let filter: FeedFilter = { types: query.type, box: query.box, userTypes: query.user_type };
    if (req.streamTokenFilter) {
      if (query.type || query.box || query.user_type) {
        throw new BadRequestException({ message: 'a stream token carries its filters: leave type, box and user_type out', field: 'token' });
      }
      filter = req.streamTokenFilter;
    }
    if (lastEventId !== null) {
      // Otherwise such a client would wait, silently, for ids this hub may never reach (its history was reset,
      // or the id is another hub's).
      const newest = await this.streams.newestEventId();
      if (newest > 0 && lastEventId > newest) {
        throw new BadRequestException({
          message: `Last-Event-ID ${lastEventId} is beyond the newest event (${newest}): reconnect without it to receive new events`,
          field: 'Last-Event-ID',
        });
      }
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 3000\n: connected\n\n');

    let handle: StreamHandle | undefined;
    let gone = false;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), this.config.get('EVENT_STREAM_HEARTBEAT_MS'));
    const end = () => {
      if (gone) return;
      gone = true;
      clearInterval(heartbeat);
      handle?.close();
    };
    req.on('close', end);
    res.on('error', end);
    try {
      handle = await this.streams.open(filter, lastEventId, {
        send: (e) => {
          res.write(sseFrame(e));
          return res.writableLength <= MAX_QUEUED_BYTES;
        },
        end: () => {
          end();
          res.end();
        },
      });
    } catch (e) {
      end();
      res.end();
      throw e;
    }
    if (gone) handle.close();
  }
}

function parseLastEventId(header: string | string[] | undefined, query: string | undefined): number | null {
  const raw = (Array.isArray(header) ? header[0] : header)?.trim() || query;
  if (raw === undefined || raw === '') return null;
  if (!/^\d{1,15}$/.test(raw))
    throw new BadRequestException({ message: 'Last-Event-ID must be an event id (digits)', field: 'Last-Event-ID' });
  return Number(raw);
}
