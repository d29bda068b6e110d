import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSourceOptions } from 'typeorm';
import type { DatabaseSettings } from '../config/app-config.service';
import { usePortableColumnTypesFor } from './portable-columns';
import { Box } from '../devices/entities/box.entity';
import { MediaDevice } from '../devices/entities/media-device.entity';
import { Identity } from '../identities/entities/identity.entity';
import { Face } from '../identities/entities/face.entity';
import { RecognitionRecord } from '../recognition-records/entities/recognition-record.entity';
import { StoredImage } from '../images/entities/stored-image.entity';
import { OutboxEvent } from '../events/entities/outbox-event.entity';
import { ApiKey } from '../auth/entities/api-key.entity';
import { AuditEntry } from '../audit/entities/audit-entry.entity';
import { Alert } from '../alerts/entities/alert.entity';
import { migrations } from './migrations';
import { WebhookSubscription } from '../integrations/webhooks/entities/webhook-subscription.entity';
import { WebhookDelivery } from '../integrations/webhooks/entities/webhook-delivery.entity';
import { WebhookDeliveryAttempt } from '../integrations/webhooks/entities/webhook-delivery-attempt.entity';

export const entities = [Box, MediaDevice, Identity, Face, RecognitionRecord, StoredImage, OutboxEvent, ApiKey, AuditEntry, Alert, WebhookSubscription, WebhookDelivery, WebhookDeliveryAttempt];

/** One place that turns settings into TypeORM options, used by the app, ormconfig.ts and tests. */
export function buildDataSourceOptions(db: DatabaseSettings, overrides: { migrationsRun?: boolean } = {}): DataSourceOptions {
  usePortableColumnTypesFor(db.kind);
  const common = {
    entities,
    migrations,
    migrationsRun: overrides.migrationsRun ?? false,
    synchronize: false,
    logging: ['error', 'warn', 'migration'] as ('error' | 'warn' | 'migration')[],
  };
  if (db.kind === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: db.url,
      poolSize: db.poolSize,
      migrationsTransactionMode: 'each',
    };
  }
  fs.mkdirSync(path.dirname(db.path), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: db.path,
    // WAL lets readers run beside the single writer. An acknowledged record must survive a power loss, so the
    // WAL is fsynced after every commit: not by SQLite (synchronous=FULL would do it on the event loop, stalling
    // the server for each fsync) but by UnitOfWork on the thread pool, once per group of commits, before any of
    // their callers is answered. Writes through UnitOfWork.run() get that guarantee.
    enableWAL: true,
    prepareDatabase: (conn: { pragma: (s: string) => unknown }) => {
      conn.pragma('busy_timeout = 5000');
      conn.pragma('synchronous = NORMAL');
      conn.pragma('foreign_keys = ON');
      // Statement journals of the group commit's savepoints stay in memory instead of temp files.
      conn.pragma('temp_store = MEMORY');
      // Deleted content (an erased person's feature vectors, image hashes) is zeroed, not left in free space
      // and freed pages: ON, not FAST, because FAST leaves freed (overflow) pages as they were.
      conn.pragma('secure_delete = ON');
    },
  };
}
