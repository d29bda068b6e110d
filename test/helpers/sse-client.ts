import * as http from 'node:http';
import type { Json } from './api-client';

export interface SseEvent {
  id: number;
  event: string;
  data: Json;
}

/** A raw SSE client over node:http: parses frames as they arrive, keeps comments too. */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  ended = false;
  private req!: http.ClientRequest;
  private buffer = '';

  static async open(baseUrl: string, path: string, headers: Record<string, string>): Promise<SseClient> {
    const c = new SseClient();
    await new Promise<void>((resolve, reject) => {
      c.req = http.get(baseUrl + path, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        c.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => c.feed(chunk));
        res.on('error', () => undefined);
        res.on('end', () => (c.ended = true));
        resolve();
      });
      c.req.on('error', reject);
    });
    return c;
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else {
          const i = line.indexOf(':');
          fields[line.slice(0, i)] = line.slice(i + 1).trimStart();
        }
      }
      if (fields.data !== undefined) this.events.push({ id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data) });
    }
  }

  close(): void {
    this.req.destroy();
  }
}
