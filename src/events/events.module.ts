import { Global, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { OutboxReader } from './outbox-reader.service';
import { OutboxRelay } from './outbox-relay.service';
import { OutboxService } from './outbox.service';

@Global()
@Module({
  imports: [EventEmitterModule.forRoot({ wildcard: true, delimiter: '.' })],
  providers: [OutboxService, OutboxRelay, OutboxReader],
  exports: [OutboxService, OutboxRelay, OutboxReader],
})
export class EventsModule {}
