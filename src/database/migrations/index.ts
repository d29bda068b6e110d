import { InitialSchema1764043200000 } from './1764043200000-initial-schema';
import { ConsumerApi1764100000000 } from './1764100000000-consumer-api';
import { BoxAccess1764200000000 } from './1764200000000-box-access';
import { FaceLibraryCurrent1764400000000 } from './1764400000000-face-library-current';
import { Alerts1764400000001 } from './1764400000001-alerts';
import { RetentionIndexes1764300000000 } from './1764300000000-retention-indexes';
import { Integrations1764600000000 } from './1764600000000-integrations';
import { LegacyCameraUuid1764700000000 } from './1764700000000-legacy-camera-uuid';

/** Every migration, in order. Listed explicitly so the compiled app and the CLI agree without globbing. */
export const migrations = [InitialSchema1764043200000, ConsumerApi1764100000000, BoxAccess1764200000000, FaceLibraryCurrent1764400000000, Alerts1764400000001, RetentionIndexes1764300000000, Integrations1764600000000, LegacyCameraUuid1764700000000];
