import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { OutboxReader } from './outbox-reader.service';
import { OutboxRelay } from './outbox-relay.service';
import { OutboxService } from './outbox.service';

/** The outbox: publishers import it to enqueue in their transaction; the relay hands events to @OnDomainEvent listeners. */
@Module({
  imports: [EventEmitterModule.forRoot({ wildcard: true, delimiter: '.' })],
  providers: [OutboxService, OutboxRelay, OutboxReader],
  exports: [OutboxService, OutboxRelay, OutboxReader],
})
export class EventsModule {}
