import { BadRequestException, Controller, Get, Query, Req, Res, UsePipes } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiKeyProtected } from '../../auth/auth.decorators';
import { apiValidationPipe } from '../../common/api-validation.pipe';
import { ErrorResponseDto } from '../../common/error-response.dto';
import { AppConfig } from '../../config/app-config.service';
import { SSE_FORMAT } from '../event-envelope.openapi';
import type { FeedEvent } from '../event-feed.service';
import { EventStreamQueryDto } from './dto/event-stream-query.dto';
import { EventStreamService, StreamHandle } from './event-stream.service';

/** A client this far behind (bytes queued in the socket) is cut off; it resumes with Last-Event-ID. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

function sseFrame(e: FeedEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.envelope)}\n\n`;
}

@ApiTags('events')
@ApiKeyProtected()
@UsePipes(apiValidationPipe())
@Controller('events')
export class EventStreamController {
  constructor(
    private readonly streams: EventStreamService,
    private readonly config: AppConfig,
  ) {}

  @Get('stream')
  @ApiOperation({
    operationId: 'streamEvents',
    summary: 'Server-sent events: domain events as they are committed; resumable with Last-Event-ID.',
    description: SSE_FORMAT,
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id.', schema: { type: 'string', pattern: '^\\d{1,15}$' } })
  @ApiOkResponse({
    description: 'An endless text/event-stream of EventEnvelope frames.',
    content: { 'text/event-stream': { schema: { type: 'string', example: 'id: 42\nevent: recognition.recorded\ndata: {"id":"42","type":"recognition.recorded",…}\n\n' } } },
  })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A filter or Last-Event-ID is invalid; field names it.' })
  async stream(@Query() query: EventStreamQueryDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const lastEventId = parseLastEventId(req.headers['last-event-id'], query.last_event_id);
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
      handle = await this.streams.open({ types: query.type, box: query.box, userTypes: query.user_type }, lastEventId, {
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
  if (!/^\d{1,15}$/.test(raw)) throw new BadRequestException({ message: 'Last-Event-ID must be an event id (digits)', field: 'Last-Event-ID' });
  return Number(raw);
}
