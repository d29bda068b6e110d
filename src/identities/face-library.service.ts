import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, In } from 'typeorm';
import { chunks } from '../common/chunks';
import { UnitOfWork } from '../database/unit-of-work';
import type { FaceSource } from '../events/domain-events';
import { Face } from './entities/face.entity';
import { IdentitiesService } from './identities.service';
import { RecordsStore } from '../recognition-records/records-store.service';

export type FaceOrigin = 'stranger-registered' | 'face-library-updated';

export interface FaceLibraryChange {
  /** Null when the source record is gone or holds neither image nor feature: nothing is added. */
  faceId: string | null;
  /** False when this source record was already in the library (a replay). */
  added: boolean;
  currentFaceId: string | null;
}

/**
 * The face library: registered faces per identity, applied from post_action 1001/1002 events.
 * Idempotent (one face per identity and source record) and order-independent: the current face is
 * always the one with the newest box event time, whatever order the events are applied in.
 */
@Injectable()
export class FaceLibraryService {
  private readonly logger = new Logger(FaceLibraryService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly identities: IdentitiesService,
    private readonly records: RecordsStore,
  ) {}

  /** post_action 1001: the stranger identity exists with user_type stranger, its face is in the library. */
  registerStranger(face: FaceSource): Promise<FaceLibraryChange> {
    return this.apply(face, 'stranger-registered', 'stranger');
  }

  /** post_action 1002: the new registered face is added and, unless a newer one exists, becomes current. */
  updateRegisteredFace(face: FaceSource): Promise<FaceLibraryChange> {
    return this.apply(face, 'face-library-updated', null);
  }

  private apply(face: FaceSource, origin: FaceOrigin, userType: string | null): Promise<FaceLibraryChange> {
    return this.uow.run(async (m) => {
      const d = this.uow.dialect;
      // Image and feature come from the record row as it is now, not from the event: biometrics erased since the
      // event was written must not come back through it.
      const record = await this.records.faceSource(m, face.recordId);
      if (!record) {
        this.logger.log(`record ${face.recordId} no longer exists; face library left unchanged`);
        return { faceId: null, added: false, currentFaceId: null };
      }
      const now = Date.now();
      // Creates the identity if it is gone, and sets user_type unless a newer record said otherwise. The upsert
      // also row-locks the identity until commit, so on PostgreSQL two instances applying faces of one identity
      // take turns, and the current-face switch below never sees a half-applied sibling.
      const identityId = await this.identities.recordSighting(m, {
        externalId: face.identityExternalId,
        name: record.identityName,
        userType,
        seenAt: face.occurredAt,
        now,
      });
      const imageSha256 = record.registeredImageSha256 ?? record.faceImageSha256;
      if (imageSha256 === null && record.feature === null) {
        // Erased since, or the box sent nothing usable (the record's defects say why): no face to register.
        this.logger.log(`record ${face.recordId} has no face image or feature; no face added`);
        return { faceId: null, added: false, currentFaceId: null };
      }
      const feature = record.feature;
      // Raw SQL: the conflict target (one face per identity and source record) must be named, and the query builder's
      // orIgnore() would ignore every conflict instead (INSERT OR IGNORE on SQLite).
      const inserted: { id: string }[] = await m.query(
        `INSERT INTO faces (id, identity_id, source_record_id, source, image_sha256, feature, is_current, captured_at, created_at)
         VALUES (${d.params(1, 6)}, ${d.bool(false)}, ${d.params(7, 2)})
         ON CONFLICT (identity_id, source_record_id) DO NOTHING
         RETURNING id`,
        [randomUUID(), identityId, face.recordId, origin, imageSha256, feature, face.occurredAt, now],
      );
      const faceId =
        inserted[0]?.id ??
        (await m.getRepository(Face).findOneOrFail({ select: { id: true }, where: { identityId, sourceRecordId: face.recordId } })).id;
      const currentFaceId = await this.electCurrentFace(m, identityId);
      return { faceId, added: inserted.length > 0, currentFaceId };
    });
  }

  /**
   * Marks the face with the newest capture time current and every other one history. Ties (same event
   * time) are broken by source record id so every instance and every replay order agrees.
   * Two statements, clearing first: the partial unique index allows one current face per identity at any moment.
   */
  async electCurrentFace(m: EntityManager, identityId: string): Promise<string | null> {
    // Plain SQL: this runs for every 1001/1002 record, and the repository's findOne()/update() cost more CPU than
    // the statements themselves.
    const d = this.uow.dialect;
    const [newest]: { id: string }[] = await m.query(
      `SELECT id FROM faces WHERE identity_id = ${d.p(1)} ORDER BY captured_at DESC, source_record_id DESC LIMIT 1`,
      [identityId],
    );
    if (!newest) return null;
    await m.query(`UPDATE faces SET is_current = ${d.bool(false)} WHERE identity_id = ${d.p(1)} AND is_current AND id <> ${d.p(2)}`, [
      identityId,
      newest.id,
    ]);
    await m.query(`UPDATE faces SET is_current = ${d.bool(true)} WHERE id = ${d.p(1)} AND NOT is_current`, [newest.id]);
    return newest.id;
  }

  /** Erasure: removes the identity's whole face library in the caller's transaction; returns the faces' images. */
  async eraseOfIdentity(manager: EntityManager, identityId: string): Promise<{ facesDeleted: number; imageSha256s: string[] }> {
    const faces = manager.getRepository(Face);
    const rows = await faces.find({ select: { id: true, imageSha256: true }, where: { identityId } });
    if (rows.length > 0) await faces.delete({ identityId });
    return { facesDeleted: rows.length, imageSha256s: rows.map((f) => f.imageSha256).filter((s): s is string => s !== null) };
  }

  /** Which of these images a face references (image release decides on the rest), in the caller's transaction. */
  async referencedImages(manager: EntityManager, sha256s: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const shas of chunks(sha256s)) {
      const rows = await manager
        .getRepository(Face)
        .createQueryBuilder('f')
        .select('f.imageSha256', 'sha')
        .distinct()
        .where('f.imageSha256 IN (:...shas)', { shas })
        .getRawMany<{ sha: string }>();
      for (const r of rows) found.add(r.sha);
    }
    return found;
  }

  /** A library face's feature, its identity and source record (face search probe); null when there is no such face. */
  async faceFeature(faceId: string): Promise<{ feature: Buffer | null; identityId: string; sourceRecordId: string } | null> {
    const rows: { feature: Buffer | Uint8Array | null; identity_id: string; source_record_id: string }[] = await this.uow.dataSource.query(
      `SELECT feature, identity_id, source_record_id FROM faces WHERE id = ${this.uow.dialect.p(1)}`,
      [faceId],
    );
    if (rows.length === 0) return null;
    const f = rows[0].feature;
    return {
      feature: f === null ? null : Buffer.from(f.buffer, f.byteOffset, f.byteLength),
      identityId: rows[0].identity_id,
      sourceRecordId: rows[0].source_record_id,
    };
  }
}
