import { Injectable } from '@nestjs/common';
import { FaceLibraryUpdatedEvent, IdentityMergedEvent, RecognitionRecordedEvent, StrangerRegisteredEvent } from '../events/domain-events';
import { OnDomainEvent } from '../events/on-domain-event.decorator';
import { PersonsService } from './persons.service';

/** Feeds persons from the outbox: sightings and first faces from records and face-library changes, merges. Idempotent. */
@Injectable()
export class PersonsListener {
  constructor(private readonly persons: PersonsService) {}

  @OnDomainEvent(RecognitionRecordedEvent.type)
  async onRecorded(event: RecognitionRecordedEvent): Promise<void> {
    await this.persons.recordSeen(event.record);
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
