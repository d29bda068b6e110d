import { Injectable } from '@nestjs/common';
import { FaceLibraryUpdatedEvent, StrangerRegisteredEvent } from '../events/domain-events';
import { OnDomainEvent } from '../events/on-domain-event.decorator';
import { FaceLibraryService } from './face-library.service';

/** Applies the box's face-library changes (post_action 1001/1002) relayed from the outbox. */
@Injectable()
export class FaceLibraryListener {
  constructor(private readonly faces: FaceLibraryService) {}

  @OnDomainEvent(StrangerRegisteredEvent.type)
  async onStrangerRegistered(event: StrangerRegisteredEvent): Promise<void> {
    await this.faces.registerStranger(event.face);
  }

  @OnDomainEvent(FaceLibraryUpdatedEvent.type)
  async onFaceLibraryUpdated(event: FaceLibraryUpdatedEvent): Promise<void> {
    await this.faces.updateRegisteredFace(event.face);
  }
}
