import { InitialSchema1764043200000 } from './1764043200000-initial-schema';
import { ConsumerApi1764100000000 } from './1764100000000-consumer-api';
import { BoxAccess1764200000000 } from './1764200000000-box-access';
import { FaceLibraryCurrent1764400000000 } from './1764400000000-face-library-current';
import { Alerts1764400000001 } from './1764400000001-alerts';
import { RetentionIndexes1764300000000 } from './1764300000000-retention-indexes';
import { Integrations1764600000000 } from './1764600000000-integrations';
import { LegacyCameraUuid1764650000000 } from './1764650000000-legacy-camera-uuid';
import { BoxTimestamp1764700000000 } from './1764700000000-box-timestamp';
import { EventStreamTokens1764800000000 } from './1764800000000-event-stream-tokens';
import { AlertRules1764900000000 } from './1764900000000-alert-rules';
import { BrokerStreams1765000000000 } from './1765000000000-broker-streams';
import { Persons1765100000000 } from './1765100000000-persons';
import { PendingImageReleases1765400000000 } from './1765400000000-pending-image-releases';

/** Every migration, in order. Listed explicitly so the compiled app and the CLI agree without globbing. */
export const migrations = [
  InitialSchema1764043200000,
  ConsumerApi1764100000000,
  BoxAccess1764200000000,
  FaceLibraryCurrent1764400000000,
  Alerts1764400000001,
  RetentionIndexes1764300000000,
  Integrations1764600000000,
  // Before BoxTimestamp: it finds already-stored events by the occurred_at key that BoxTimestamp then replaces.
  LegacyCameraUuid1764650000000,
  BoxTimestamp1764700000000,
  EventStreamTokens1764800000000,
  AlertRules1764900000000,
  BrokerStreams1765000000000,
  Persons1765100000000,
  PendingImageReleases1765400000000,
];
