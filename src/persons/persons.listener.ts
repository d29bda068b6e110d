import { Injectable, OnModuleInit } from '@nestjs/common';
import { FaceLibraryUpdatedEvent, IdentityMergedEvent, RecognitionRecordedEvent, StrangerRegisteredEvent } from '../events/domain-events';
import { OnDomainEvent } from '../events/on-domain-event.decorator';
import { OutboxRelay } from '../events/outbox-relay.service';
import { PersonsService } from './persons.service';

/**
 * Feeds persons from the outbox: sightings and first faces from records and face-library changes, merges. Idempotent.
 * Records come a relay batch at a time (one transaction for the batch's sightings, not one per record).
 */
@Injectable()
export class PersonsListener implements OnModuleInit {
  constructor(
    private readonly persons: PersonsService,
    private readonly relay: OutboxRelay,
  ) {}

  onModuleInit(): void {
    this.relay.onEvents(RecognitionRecordedEvent.type, (events) => this.onRecorded(events));
  }

  async onRecorded(events: RecognitionRecordedEvent[]): Promise<void> {
    await this.persons.recordsSeen(events.map((e) => e.record));
  }

  @OnDomainEvent(StrangerRegisteredEvent.type)
  async onStrangerRegistered(event: StrangerRegisteredEvent): Promise<void> {
    await this.persons.faceAdded(event.face.identityId, event.face.recordId);
  }

  @OnDomainEvent(FaceLibraryUpdatedEvent.type)
  async onFaceLibraryUpdated(event: FaceLibraryUpdatedEvent): Promise<void> {
    await this.persons.faceAdded(event.face.identityId, event.face.recordId);
  }

  @OnDomainEvent(IdentityMergedEvent.type)
  async onMerged(event: IdentityMergedEvent): Promise<void> {
    await this.persons.identitiesMerged(event.merge);
  }
}
