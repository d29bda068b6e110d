import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { chunks } from '../common/chunks';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import {
  DomainEvent,
  IdentityMerge,
  PersonIdentitiesLinkedEvent,
  PersonIdentityUnlinkedEvent,
  PersonLinkSuggestedEvent,
  PersonSuggestionRejectedEvent,
  RecordRef,
} from '../events/domain-events';
import { OutboxRelay } from '../events/outbox-relay.service';
import { OutboxService } from '../events/outbox.service';
import { IdentitiesService } from '../identities/identities.service';
import type { PersonLinks } from '../recognition-records/person-links.types';
import { RecordsStore } from '../recognition-records/records-store.service';
import { FaceMatrix, unitVector, vectorBytes } from './face-matrix';
import {
  identityNotInPerson,
  onlyIdentityOfPerson,
  personIdentityMerged,
  personIdentityNotFound,
  personNotFound,
  suggestionAccepted,
  suggestionNotFound,
} from './person-errors';

/** Identities a first face is compared against before they are grouped by person (the best few persons count). */
const CANDIDATES = 64;
/** Suggestions made for one identity at most (the best persons between the thresholds). */
const MAX_SUGGESTIONS = 3;
/** pg_advisory_xact_lock key of linking: one linking decision at a time across instances. */
const LINK_LOCK = 0x7e45_0115;

type Row = Record<string, unknown>;

/**
 * Persons: which identities are one human. Fed by domain events (a record's sighting, an identity's first face,
 * a merge) and by operators. Linking decisions are serialised (advisory lock on PostgreSQL, the single writer on
 * SQLite): the first faces of all identities are held in memory (FaceMatrix) and brought up to date from
 * person_identities.ref_seq inside the locked transaction, so every instance decides on the same data.
 */
@Injectable()
export class PersonsService implements PersonLinks {
  private readonly logger = new Logger(PersonsService.name);
  private readonly matrix = new FaceMatrix();
  /** Highest ref_seq read into the matrix. */
  private seenSeq = 0;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxService,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    private readonly identities: IdentitiesService,
    private readonly records: RecordsStore,
    private readonly config: AppConfig,
  ) {}

  private get linkThreshold(): number {
    return this.config.get('PERSON_LINK_THRESHOLD');
  }

  private get suggestThreshold(): number {
    return this.config.get('PERSON_SUGGEST_THRESHOLD');
  }

  // ---- PersonLinks (for identities, records, erasure) ----

  async personOf(identityId: string): Promise<string | null> {
    const rows: { person_id: string }[] = await this.uow.dataSource.query(
      `SELECT person_id FROM person_identities WHERE identity_id = ${this.uow.dialect.p(1)}`,
      [identityId],
    );
    return rows[0]?.person_id ?? null;
  }

  async personsOf(identityIds: string[], manager?: EntityManager): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const m = manager ?? this.uow.dataSource.manager;
    for (const ids of chunks([...new Set(identityIds)])) {
      const rows: { identity_id: string; person_id: string }[] = await m.query(
        `SELECT identity_id, person_id FROM person_identities WHERE identity_id IN (${this.uow.dialect.params(1, ids.length)})`,
        ids,
      );
      for (const r of rows) found.set(r.identity_id, r.person_id);
    }
    return found;
  }

  async identityIdsOf(personId: string): Promise<string[]> {
    const rows: { identity_id: string }[] = await this.uow.dataSource.query(
      `SELECT identity_id FROM person_identities WHERE person_id = ${this.uow.dialect.p(1)} ORDER BY identity_id`,
      [personId],
    );
    return rows.map((r) => r.identity_id);
  }

  async forgetFeature(m: EntityManager, identityId: string): Promise<void> {
    const d = this.uow.dialect;
    await this.lock(m);
    await m.query(
      `UPDATE person_identities SET feature = NULL, ref_seq = (SELECT COALESCE(MAX(ref_seq), 0) + 1 FROM person_identities)
       WHERE identity_id = ${d.p(1)} AND feature IS NOT NULL`,
      [identityId],
    );
    // Not removed from the matrix here: the erasure may still roll back. The new ref_seq removes it at the next read.
  }

  // ---- fed by domain events ----

  /** A stored record: the identity's person exists, its sighting is kept, and its first feature may link it. */
  async recordSeen(ref: RecordRef): Promise<void> {
    await this.recordsSeen([ref]);
  }

  /**
   * Stored records (a relay batch): like recordSeen for each, with every sighting in one transaction and one
   * read of the identities' memberships, instead of a transaction and about six statements per record. Idempotent
   * like recordSeen: sightings keep the earliest first and the newest last sighting whatever the order.
   */
  async recordsSeen(refs: RecordRef[]): Promise<void> {
    const seen = refs.filter((r): r is RecordRef & { identityId: string } => !!r.identityId);
    if (seen.length === 0) return;
    /** Identities without a first face at the time of the batch: their records may give them one. */
    const faceless = new Set<string>();
    await this.uow.run(async (m) => {
      const now = Date.now();
      const ids = [...new Set(seen.map((r) => r.identityId))].sort(byKey);
      const members = await this.memberships(m, ids);
      // In identity order: memberships are created (and sighting rows locked) in the order other instances use.
      for (const id of ids) {
        if (members.has(id)) continue;
        const personId = await this.memberIfLive(m, id, now);
        if (personId) members.set(id, { personId, featureSet: false });
      }
      const live = seen.filter((r) => members.has(r.identityId));
      for (const r of live) if (!members.get(r.identityId)!.featureSet) faceless.add(r.identityId);
      await this.upsertSightings(
        m,
        live.map((r) => ({
          identityId: r.identityId,
          mediaDeviceId: r.mediaDeviceId,
          boxId: r.boxId,
          firstSeenAt: r.occurredAt,
          lastSeenAt: r.occurredAt,
          recordId: r.recordId,
          userType: r.userType,
        })),
      );
      const byPerson = new Map<string, { first: number; newest: RecordRef }>();
      for (const r of live) {
        const personId = members.get(r.identityId)!.personId;
        const p = byPerson.get(personId);
        if (!p) byPerson.set(personId, { first: r.occurredAt, newest: r });
        else {
          p.first = Math.min(p.first, r.occurredAt);
          if (isNewer(r.occurredAt, r.recordId, p.newest.occurredAt, p.newest.recordId)) p.newest = r;
        }
      }
      await this.personsSeen(
        m,
        [...byPerson.entries()].sort((a, b) => byKey(a[0], b[0])).map(([personId, p]) => ({ personId, ...p })),
        now,
      );
    });
    // One linking attempt per record as before, in event order, until the identity has its first face: its first
    // record needs no read to know that it still has none; once an attempt found or set a face, its later records
    // of the batch would only read that again (a round trip each on PostgreSQL, most records of a new identity).
    const tried = new Set<string>();
    for (const r of seen) {
      if (!faceless.has(r.identityId)) continue;
      if (await this.considerFirstFace(r.identityId, r.recordId, !tried.has(r.identityId))) faceless.delete(r.identityId);
      tried.add(r.identityId);
    }
  }

  /** A face-library face (1001/1002): the identity's first face, unless it has one. */
  async faceAdded(identityId: string, recordId: string): Promise<void> {
    await this.considerFirstFace(identityId, recordId);
  }

  /** identity.merged: the source's person joins the target's (they are one human), the source leaves it. */
  async identitiesMerged(merge: IdentityMerge): Promise<void> {
    const { sourceId, targetId } = merge;
    await this.inLinkingTransaction(async (m, now) => {
      const d = this.uow.dialect;
      const source = await this.membership(m, sourceId);
      if (!source) return []; // never had a person, or already applied (a redelivery)
      const targetPerson = await this.ensureMember(m, targetId, now);
      const events: DomainEvent[] = [];
      const moved = (await this.membersOf(m, source.personId)).filter((id) => id !== sourceId);
      if (source.personId !== targetPerson) {
        await m.query(
          `UPDATE person_identities SET person_id = ${d.p(1)}, linked_at = ${d.p(2)}, link_reason = 'identity-merge', similarity = NULL
           WHERE person_id = ${d.p(3)}`,
          [targetPerson, now, source.personId],
        );
        await m.query(
          `UPDATE person_suggestions SET person_id = ${d.p(1)} WHERE person_id = ${d.p(2)}
           AND identity_id NOT IN (SELECT identity_id FROM person_suggestions WHERE person_id = ${d.p(3)})`,
          [targetPerson, source.personId, targetPerson],
        );
        await m.query(`DELETE FROM person_suggestions WHERE person_id = ${d.p(1)}`, [source.personId]);
        await m.query(`DELETE FROM persons WHERE id = ${d.p(1)}`, [source.personId]);
      }
      // The target takes the source's sightings, first face (if it has none) and operator decisions.
      const sightings: Row[] = await m.query(`SELECT * FROM identity_sightings WHERE identity_id = ${d.p(1)}`, [sourceId]);
      for (const s of sightings) {
        await this.upsertSighting(m, targetId, {
          mediaDeviceId: s.media_device_id as string,
          boxId: s.box_id as string,
          firstSeenAt: Number(s.first_seen_at),
          lastSeenAt: Number(s.last_seen_at),
          recordId: s.last_record_id as string,
          userType: (s.last_user_type as string | null) ?? null,
        });
      }
      await m.query(`DELETE FROM identity_sightings WHERE identity_id = ${d.p(1)}`, [sourceId]);
      await m.query(
        `UPDATE person_identities SET feature = (SELECT feature FROM person_identities WHERE identity_id = ${d.p(1)}),
           ref_seq = (SELECT COALESCE(MAX(ref_seq), 0) + 1 FROM person_identities)
         WHERE identity_id = ${d.p(2)} AND feature IS NULL
           AND EXISTS (SELECT 1 FROM person_identities WHERE identity_id = ${d.p(3)} AND feature IS NOT NULL)`,
        [sourceId, targetId, sourceId],
      );
      for (const [a, b] of [
        ['identity_id', 'other_identity_id'],
        ['other_identity_id', 'identity_id'],
      ]) {
        await m.query(
          `UPDATE person_decisions SET ${a} = ${d.p(1)} WHERE ${a} = ${d.p(2)}
             AND ${b} NOT IN (SELECT ${b} FROM person_decisions WHERE ${a} = ${d.p(3)})`,
          [targetId, sourceId, targetId],
        );
        await m.query(`DELETE FROM person_decisions WHERE ${a} = ${d.p(1)}`, [sourceId]);
      }
      await m.query(`DELETE FROM person_decisions WHERE identity_id = other_identity_id`);
      await m.query(
        `UPDATE person_suggestions SET identity_id = ${d.p(1)} WHERE identity_id = ${d.p(2)}
           AND person_id NOT IN (SELECT person_id FROM person_suggestions WHERE identity_id = ${d.p(3)})`,
        [targetId, sourceId, targetId],
      );
      await m.query(`DELETE FROM person_suggestions WHERE identity_id = ${d.p(1)}`, [sourceId]);
      // A suggestion to join the person the identity is now in is moot.
      await m.query(
        `DELETE FROM person_suggestions WHERE status = 'pending' AND EXISTS (SELECT 1 FROM person_identities pi
           WHERE pi.identity_id = person_suggestions.identity_id AND pi.person_id = person_suggestions.person_id)`,
      );
      await m.query(`DELETE FROM person_identities WHERE identity_id = ${d.p(1)}`, [sourceId]);
      this.matrix.delete(sourceId);
      await this.refreshPerson(m, targetPerson, now);
      if (source.personId !== targetPerson) {
        events.push(
          new PersonIdentitiesLinkedEvent({
            personId: targetPerson,
            identityIds: moved,
            absorbedPersonIds: [source.personId],
            similarity: null,
            reason: 'identity-merge',
            linkedBy: merge.mergedBy,
          }),
        );
      }
      return events;
    });
  }

  // ---- operators (admin; audited in the same transaction) ----

  async link(personId: string, identityId: string, actor: string): Promise<void> {
    await this.inLinkingTransaction(async (m, now) => {
      const d = this.uow.dialect;
      await this.requirePerson(m, personId);
      await this.requireLiveIdentity(m, identityId);
      const from = await this.ensureMember(m, identityId, now);
      if (from === personId) return [];
      const members = await this.membersOf(m, personId);
      // The operator's word lifts earlier "not the same" decisions between the identity and the person's members.
      for (const other of members) await this.forgetDecision(m, identityId, other);
      await this.moveIdentity(m, identityId, from, personId, 'operator', null, now);
      await m.query(
        `UPDATE person_suggestions SET status = 'accepted', decided_at = ${d.p(1)}, decided_by = ${d.p(2)}
         WHERE person_id = ${d.p(3)} AND identity_id = ${d.p(4)}`,
        [now, actor, personId, identityId],
      );
      const absorbed = (await this.personExists(m, from)) ? [] : [from];
      await this.audit.recordIn(m, {
        actor,
        action: 'person.identity-linked',
        subjectType: 'person',
        subjectId: personId,
        details: { identityId, fromPersonId: from },
      });
      return [
        new PersonIdentitiesLinkedEvent({
          personId,
          identityIds: [identityId],
          absorbedPersonIds: absorbed,
          similarity: null,
          reason: 'operator',
          linkedBy: actor,
        }),
      ];
    });
  }

  /** The identity becomes its own person again; it is never linked back to the others automatically. */
  async unlink(personId: string, identityId: string, actor: string): Promise<string> {
    let newPersonId = '';
    await this.inLinkingTransaction(async (m, now) => {
      await this.requirePerson(m, personId);
      const member = await this.membership(m, identityId);
      if (!member || member.personId !== personId) throw identityNotInPerson();
      const others = (await this.membersOf(m, personId)).filter((id) => id !== identityId);
      if (others.length === 0) throw onlyIdentityOfPerson();
      newPersonId = randomUUID();
      await this.insertPerson(m, newPersonId, now);
      await this.moveIdentity(m, identityId, personId, newPersonId, 'unlinked', null, now);
      for (const other of others) await this.decide(m, identityId, other, 'unlinked', actor, now);
      await this.audit.recordIn(m, {
        actor,
        action: 'person.identity-unlinked',
        subjectType: 'person',
        subjectId: personId,
        details: { identityId, newPersonId },
      });
      return [new PersonIdentityUnlinkedEvent({ personId, identityId, newPersonId, unlinkedBy: actor })];
    });
    return newPersonId;
  }

  async rejectSuggestion(personId: string, suggestionId: string, actor: string): Promise<void> {
    await this.inLinkingTransaction(async (m, now) => {
      const d = this.uow.dialect;
      await this.requirePerson(m, personId);
      const rows: Row[] = await m.query(`SELECT * FROM person_suggestions WHERE id = ${d.p(1)} AND person_id = ${d.p(2)}`, [
        suggestionId,
        personId,
      ]);
      if (rows.length === 0) throw suggestionNotFound();
      const s = rows[0];
      if (s.status === 'rejected') return []; // already: nothing changes, no second event
      if (s.status === 'accepted') throw suggestionAccepted();
      const identityId = s.identity_id as string;
      await m.query(
        `UPDATE person_suggestions SET status = 'rejected', decided_at = ${d.p(1)}, decided_by = ${d.p(2)} WHERE id = ${d.p(3)}`,
        [now, actor, suggestionId],
      );
      for (const other of await this.membersOf(m, personId)) await this.decide(m, identityId, other, 'rejected', actor, now);
      await this.audit.recordIn(m, {
        actor,
        action: 'person.suggestion-rejected',
        subjectType: 'person',
        subjectId: personId,
        details: { suggestionId, identityId, similarity: Number(s.similarity) },
      });
      return [
        new PersonSuggestionRejectedEvent({ suggestionId, personId, identityId, similarity: Number(s.similarity), decidedBy: actor }),
      ];
    });
  }

  // ---- linking ----

  /**
   * Links the identity by its first face, if it has none yet and the record carries a usable feature. Not
   * linked automatically when its person already has other identities (an operator put them together): then
   * only suggestions are made. True when the identity has its first face now (set here or before).
   */
  private async considerFirstFace(identityId: string, recordId: string, knownFaceless = false): Promise<boolean> {
    const d = this.uow.dialect;
    if (!knownFaceless) {
      const has: { feature_set: number | boolean }[] = await this.uow.dataSource.query(
        `SELECT CASE WHEN feature IS NULL THEN 0 ELSE 1 END AS feature_set FROM person_identities WHERE identity_id = ${d.p(1)}`,
        [identityId],
      );
      if (has.length > 0 && Number(has[0].feature_set) === 1) return true;
    }
    let hasFace = false;
    await this.inLinkingTransaction(async (m, now) => {
      const source = await this.records.faceSource(m, recordId);
      const v = unitVector(source?.feature);
      if (!v) return [];
      const personId = await this.memberIfLive(m, identityId, now);
      if (!personId) return [];
      const set = d.returnedRows<{ identity_id: string }>(
        await m.query(
          `UPDATE person_identities SET feature = ${d.p(1)}, ref_seq = (SELECT COALESCE(MAX(ref_seq), 0) + 1 FROM person_identities)
           WHERE identity_id = ${d.p(2)} AND feature IS NULL RETURNING identity_id`,
          [vectorBytes(v), identityId],
        ),
      );
      hasFace = true;
      if (set.length === 0) return []; // another event set it first
      return this.match(m, identityId, personId, v, now);
    });
    return hasFace;
  }

  /** Compares a first face with the other persons' faces: link, suggest, or nothing. */
  private async match(m: EntityManager, identityId: string, personId: string, v: Float32Array, now: number): Promise<DomainEvent[]> {
    const d = this.uow.dialect;
    const hits = this.matrix.search(v, this.suggestThreshold, CANDIDATES, (key) => key === identityId);
    if (hits.length === 0) return [];
    const found: { identity_id: string; person_id: string }[] = await m.query(
      `SELECT identity_id, person_id FROM person_identities WHERE identity_id IN (${d.params(1, hits.length)})`,
      hits.map((h) => h.key),
    );
    const personOf = new Map(found.map((r) => [r.identity_id, r.person_id]));
    const best = new Map<string, number>();
    for (const h of hits) {
      const p = personOf.get(h.key);
      if (!p) {
        this.matrix.delete(h.key); // merged away on another instance
        continue;
      }
      if (p !== personId && !best.has(p)) best.set(p, h.similarity);
    }
    if (best.size === 0) return [];
    // Operators' decisions: no person holding an identity they separated from this one.
    const blockedIdentities = new Set(
      (
        (await m.query(`SELECT other_identity_id FROM person_decisions WHERE identity_id = ${d.p(1)}`, [identityId])) as {
          other_identity_id: string;
        }[]
      ).map((r) => r.other_identity_id),
    );
    const candidates = [...best.entries()].map(([p, similarity]) => ({ personId: p, similarity }));
    const blockedPersons = new Set<string>();
    if (blockedIdentities.size > 0) {
      const ids = candidates.map((c) => c.personId);
      const members: { identity_id: string; person_id: string }[] = await m.query(
        `SELECT identity_id, person_id FROM person_identities WHERE person_id IN (${d.params(1, ids.length)})`,
        ids,
      );
      for (const r of members) if (blockedIdentities.has(r.identity_id)) blockedPersons.add(r.person_id);
    }
    const open = candidates.filter((c) => !blockedPersons.has(c.personId)).sort((a, b) => b.similarity - a.similarity);
    if (open.length === 0) return [];
    const alone = (await this.membersOf(m, personId)).length === 1;
    const top = open[0];
    if (top.similarity >= this.linkThreshold && alone) {
      await this.moveIdentity(m, identityId, personId, top.personId, 'face-match', top.similarity, now);
      await m.query(
        `UPDATE person_suggestions SET status = 'accepted', decided_at = ${d.p(1)}, decided_by = 'system:face-match'
         WHERE person_id = ${d.p(2)} AND identity_id = ${d.p(3)} AND status = 'pending'`,
        [now, top.personId, identityId],
      );
      return [
        new PersonIdentitiesLinkedEvent({
          personId: top.personId,
          identityIds: [identityId],
          absorbedPersonIds: [personId],
          similarity: round(top.similarity),
          reason: 'face-match',
          linkedBy: null,
        }),
      ];
    }
    const events: DomainEvent[] = [];
    for (const c of open.slice(0, MAX_SUGGESTIONS)) {
      const id = randomUUID();
      const inserted: { id: string }[] = await m.query(
        `INSERT INTO person_suggestions (id, person_id, identity_id, similarity, status, created_at)
         VALUES (${d.params(1, 4)}, 'pending', ${d.p(5)})
         ON CONFLICT (person_id, identity_id) DO NOTHING RETURNING id`,
        [id, c.personId, identityId, round(c.similarity), now],
      );
      if (inserted.length === 0) continue;
      events.push(
        new PersonLinkSuggestedEvent({
          suggestionId: id,
          personId: c.personId,
          identityId,
          similarity: round(c.similarity),
          decidedBy: null,
        }),
      );
    }
    return events;
  }

  /**
   * Runs a change of persons under the linking lock, with the face matrix brought up to date first, and writes
   * the events it returns to the outbox in the same transaction. A failed transaction (whose reads may already
   * be in the matrix) empties the matrix: it is read again in full next time.
   */
  private async inLinkingTransaction(work: (m: EntityManager, now: number) => Promise<DomainEvent[]>): Promise<void> {
    let events: DomainEvent[] = [];
    try {
      await this.uow.run(async (m) => {
        const now = Date.now();
        await this.lock(m);
        await this.refreshMatrix(m);
        events = await work(m, now);
        for (const e of events) await this.outbox.enqueue(m, aggregateOf(e), [e], now);
      });
    } catch (e) {
      this.matrix.clear();
      this.seenSeq = 0;
      throw e;
    }
    if (events.length > 0) this.relay.kick();
  }

  private async lock(m: EntityManager): Promise<void> {
    if (this.uow.dialect.kind === 'postgres') await m.query(`SELECT pg_advisory_xact_lock(${LINK_LOCK})`);
  }

  /** Faces set or cleared since the last read (by any instance), in ref_seq order. */
  private async refreshMatrix(m: EntityManager): Promise<void> {
    const d = this.uow.dialect;
    for (;;) {
      const rows: { identity_id: string; feature: Buffer | null; ref_seq: string | number }[] = await m.query(
        `SELECT identity_id, feature, ref_seq FROM person_identities WHERE ref_seq > ${d.p(1)} ORDER BY ref_seq LIMIT 5000`,
        [this.seenSeq],
      );
      for (const r of rows) {
        const v = unitVector(r.feature);
        if (v) this.matrix.set(r.identity_id, v);
        else this.matrix.delete(r.identity_id);
        this.seenSeq = Number(r.ref_seq);
      }
      if (rows.length < 5000) return;
    }
  }

  // ---- membership and sightings ----

  /**
   * The identity's person. On PostgreSQL the membership row stays locked until commit, so a sighting being added
   * and an operator moving the identity (other instances, no linking lock for sightings) take turns.
   */
  private async membership(m: EntityManager, identityId: string): Promise<{ personId: string } | null> {
    const d = this.uow.dialect;
    const rows: { person_id: string }[] = await m.query(
      `SELECT person_id FROM person_identities WHERE identity_id = ${d.p(1)} ${d.kind === 'postgres' ? 'FOR UPDATE' : ''}`,
      [identityId],
    );
    return rows.length ? { personId: rows[0].person_id } : null;
  }

  /** membership() of several identities (sorted), and whether each has its first face; locked the same way. */
  private async memberships(m: EntityManager, identityIds: string[]): Promise<Map<string, { personId: string; featureSet: boolean }>> {
    const d = this.uow.dialect;
    const found = new Map<string, { personId: string; featureSet: boolean }>();
    for (const ids of chunks(identityIds)) {
      const rows: { identity_id: string; person_id: string; feature_set: number | boolean }[] = await m.query(
        `SELECT identity_id, person_id, CASE WHEN feature IS NULL THEN 0 ELSE 1 END AS feature_set FROM person_identities
         WHERE identity_id IN (${d.params(1, ids.length)}) ORDER BY identity_id ${d.kind === 'postgres' ? 'FOR UPDATE' : ''}`,
        ids,
      );
      for (const r of rows) found.set(r.identity_id, { personId: r.person_id, featureSet: Number(r.feature_set) === 1 });
    }
    return found;
  }

  private async membersOf(m: EntityManager, personId: string): Promise<string[]> {
    const rows: { identity_id: string }[] = await m.query(
      `SELECT identity_id FROM person_identities WHERE person_id = ${this.uow.dialect.p(1)} ORDER BY identity_id`,
      [personId],
    );
    return rows.map((r) => r.identity_id);
  }

  /** The identity's person, created (with the identity's id) the first time the identity is heard of. */
  private async ensureMember(m: EntityManager, identityId: string, now: number): Promise<string> {
    return (await this.memberIfLive(m, identityId, now)) ?? identityId;
  }

  /** Like ensureMember, but null for an identity that is gone or merged away (a late event about it). */
  private async memberIfLive(m: EntityManager, identityId: string, now: number): Promise<string | null> {
    const existing = await this.membership(m, identityId);
    if (existing) return existing.personId;
    const live = await this.identities.isLive(m, identityId);
    if (!live.exists || live.mergedIntoId) return null;
    const d = this.uow.dialect;
    await m.query(
      `INSERT INTO persons (id, created_at, updated_at, last_seen_at) VALUES (${d.params(1, 3)}, 0) ON CONFLICT (id) DO NOTHING`,
      [identityId, now, now],
    );
    await m.query(
      `INSERT INTO person_identities (identity_id, person_id, linked_at, link_reason) VALUES (${d.params(1, 3)}, 'own')
       ON CONFLICT (identity_id) DO NOTHING`,
      [identityId, identityId, now],
    );
    return (await this.membership(m, identityId))!.personId;
  }

  private async insertPerson(m: EntityManager, id: string, now: number): Promise<void> {
    const d = this.uow.dialect;
    await m.query(`INSERT INTO persons (id, created_at, updated_at, last_seen_at) VALUES (${d.params(1, 3)}, 0)`, [id, now, now]);
  }

  private async personExists(m: EntityManager, id: string): Promise<boolean> {
    const rows: Row[] = await m.query(`SELECT id FROM persons WHERE id = ${this.uow.dialect.p(1)}`, [id]);
    return rows.length > 0;
  }

  private async requirePerson(m: EntityManager, id: string): Promise<void> {
    if (!(await this.personExists(m, id))) throw personNotFound();
  }

  private async requireLiveIdentity(m: EntityManager, id: string): Promise<void> {
    const live = await this.identities.isLive(m, id);
    if (!live.exists) throw personIdentityNotFound();
    if (live.mergedIntoId) throw personIdentityMerged(live.mergedIntoId);
  }

  /** Moves one identity; a person left without identities is removed. Both persons' last-seen facts are redone. */
  private async moveIdentity(
    m: EntityManager,
    identityId: string,
    from: string,
    to: string,
    reason: string,
    similarity: number | null,
    now: number,
  ): Promise<void> {
    const d = this.uow.dialect;
    await m.query(
      `UPDATE person_identities SET person_id = ${d.p(1)}, linked_at = ${d.p(2)}, link_reason = ${d.p(3)}, similarity = ${d.p(4)}
       WHERE identity_id = ${d.p(5)}`,
      [to, now, reason, similarity === null ? null : round(similarity), identityId],
    );
    if ((await this.membersOf(m, from)).length === 0) {
      await m.query(`DELETE FROM persons WHERE id = ${d.p(1)}`, [from]);
      await m.query(`DELETE FROM person_suggestions WHERE person_id = ${d.p(1)}`, [from]);
    } else await this.refreshPerson(m, from, now);
    await this.refreshPerson(m, to, now);
  }

  private async decide(m: EntityManager, a: string, b: string, decision: string, actor: string, now: number): Promise<void> {
    const d = this.uow.dialect;
    for (const [x, y] of [
      [a, b],
      [b, a],
    ]) {
      await m.query(
        `INSERT INTO person_decisions (identity_id, other_identity_id, decision, decided_by, decided_at) VALUES (${d.params(1, 5)})
         ON CONFLICT (identity_id, other_identity_id) DO UPDATE SET decision = excluded.decision,
           decided_by = excluded.decided_by, decided_at = excluded.decided_at`,
        [x, y, decision, actor.slice(0, 200), now],
      );
    }
  }

  private async forgetDecision(m: EntityManager, a: string, b: string): Promise<void> {
    const d = this.uow.dialect;
    await m.query(
      `DELETE FROM person_decisions WHERE (identity_id = ${d.p(1)} AND other_identity_id = ${d.p(2)})
         OR (identity_id = ${d.p(3)} AND other_identity_id = ${d.p(4)})`,
      [a, b, b, a],
    );
  }

  /**
   * Persons' sightings of a batch, one statement: each person's first-seen time if `first` is earlier, and its
   * newest sighting if `newest` is newer (by time, then record id, as every instance orders them). In person id
   * order, the order every batch locks them in.
   */
  private async personsSeen(m: EntityManager, seen: { personId: string; first: number; newest: RecordRef }[], now: number): Promise<void> {
    const d = this.uow.dialect;
    // VALUES columns are column1..column8 on both databases; PostgreSQL needs their types.
    const types = ['varchar', 'bigint', 'bigint', 'varchar', 'varchar', 'varchar', 'varchar', 'bigint'];
    const rows = seen.map(({ personId, first, newest: r }) => [
      personId,
      first,
      r.occurredAt,
      r.recordId,
      r.boxId,
      r.mediaDeviceId,
      r.userType,
      now,
    ]);
    const newer = `(persons.last_seen_at < v.column3 OR (persons.last_seen_at = v.column3 AND COALESCE(persons.last_record_id, '') < v.column4))`;
    const ifNewer = (column: string, value: string) => `${column} = CASE WHEN ${newer} THEN ${value} ELSE persons.${column} END`;
    for (const chunk of d.valuesChunks(rows, types.length, types)) {
      await m.query(
        `UPDATE persons SET ${ifNewer('last_seen_at', 'v.column3')}, ${ifNewer('last_record_id', 'v.column4')},
           ${ifNewer('last_box_id', 'v.column5')}, ${ifNewer('last_media_device_id', 'v.column6')},
           ${ifNewer('last_user_type', 'v.column7')}, ${ifNewer('updated_at', 'v.column8')},
           first_seen_at = CASE WHEN persons.first_seen_at IS NULL OR persons.first_seen_at > v.column2 THEN v.column2 ELSE persons.first_seen_at END
         FROM (VALUES ${chunk.sql}) AS v
         WHERE persons.id = v.column1 AND (${newer} OR persons.first_seen_at IS NULL OR persons.first_seen_at > v.column2)`,
        chunk.params,
      );
    }
  }

  private async upsertSighting(m: EntityManager, identityId: string, s: Sighting): Promise<void> {
    await this.upsertSightings(m, [{ identityId, ...s }]);
  }

  /** Sightings, several of one (identity, media device) folded first: one upsert touches a row once. */
  private async upsertSightings(m: EntityManager, sightings: (Sighting & { identityId: string })[]): Promise<void> {
    const folded = new Map<string, Sighting & { identityId: string }>();
    for (const s of sightings) {
      const key = `${s.identityId}\u0000${s.mediaDeviceId}`;
      const f = folded.get(key);
      if (!f) folded.set(key, { ...s });
      else {
        f.firstSeenAt = Math.min(f.firstSeenAt, s.firstSeenAt);
        if (isNewer(s.lastSeenAt, s.recordId, f.lastSeenAt, f.recordId)) Object.assign(f, { ...s, firstSeenAt: f.firstSeenAt });
      }
    }
    if (folded.size === 0) return;
    // Key order: concurrent batches (also of other instances) lock the rows in the same order.
    const rows = [...folded.entries()]
      .sort((x, y) => byKey(x[0], y[0]))
      .map(([, s]) => [s.identityId, s.mediaDeviceId, s.boxId, s.firstSeenAt, s.lastSeenAt, s.recordId, s.userType]);
    const d = this.uow.dialect;
    const newer =
      '(excluded.last_seen_at > identity_sightings.last_seen_at OR (excluded.last_seen_at = identity_sightings.last_seen_at AND excluded.last_record_id > identity_sightings.last_record_id))';
    for (const chunk of d.valuesChunks(rows, 7)) {
      await m.query(
        `INSERT INTO identity_sightings (identity_id, media_device_id, box_id, first_seen_at, last_seen_at, last_record_id, last_user_type)
         VALUES ${chunk.sql}
         ON CONFLICT (identity_id, media_device_id) DO UPDATE SET
           first_seen_at = ${d.least('identity_sightings.first_seen_at', 'excluded.first_seen_at')},
           box_id = CASE WHEN ${newer} THEN excluded.box_id ELSE identity_sightings.box_id END,
           last_record_id = CASE WHEN ${newer} THEN excluded.last_record_id ELSE identity_sightings.last_record_id END,
           last_user_type = CASE WHEN ${newer} THEN excluded.last_user_type ELSE identity_sightings.last_user_type END,
           last_seen_at = ${d.greatest('identity_sightings.last_seen_at', 'excluded.last_seen_at')}`,
        chunk.params,
      );
    }
  }

  /** A person's first/last-seen facts recomputed from its identities' sightings (after its identities changed). */
  private async refreshPerson(m: EntityManager, personId: string, now: number): Promise<void> {
    const d = this.uow.dialect;
    const latest: Row[] = await m.query(
      `SELECT s.* FROM identity_sightings s JOIN person_identities pi ON pi.identity_id = s.identity_id
       WHERE pi.person_id = ${d.p(1)} ORDER BY s.last_seen_at DESC, s.last_record_id DESC LIMIT 1`,
      [personId],
    );
    const first: { first: string | number | null }[] = await m.query(
      `SELECT MIN(s.first_seen_at) AS first FROM identity_sightings s JOIN person_identities pi ON pi.identity_id = s.identity_id
       WHERE pi.person_id = ${d.p(1)}`,
      [personId],
    );
    const l = latest[0];
    await m.query(
      `UPDATE persons SET first_seen_at = ${d.p(1)}, last_seen_at = ${d.p(2)}, last_record_id = ${d.p(3)}, last_box_id = ${d.p(4)},
         last_media_device_id = ${d.p(5)}, last_user_type = ${d.p(6)}, updated_at = ${d.p(7)} WHERE id = ${d.p(8)}`,
      [
        first[0]?.first === null || first[0]?.first === undefined ? null : Number(first[0].first),
        l ? Number(l.last_seen_at) : 0,
        l?.last_record_id ?? null,
        l?.box_id ?? null,
        l?.media_device_id ?? null,
        l?.last_user_type ?? null,
        now,
        personId,
      ],
    );
  }
}

/** The outbox aggregate of a person event: the person it is about. */
function aggregateOf(e: DomainEvent): string {
  if (e instanceof PersonIdentitiesLinkedEvent) return e.link.personId;
  if (e instanceof PersonLinkSuggestedEvent || e instanceof PersonSuggestionRejectedEvent) return e.suggestion.personId;
  if (e instanceof PersonIdentityUnlinkedEvent) return e.unlink.personId;
  throw new Error(`not a person event: ${e.type}`);
}

interface Sighting {
  mediaDeviceId: string;
  boxId: string;
  firstSeenAt: number;
  lastSeenAt: number;
  recordId: string;
  userType: string | null;
}

/** Sighting order: by box event time, then record id. */
function isNewer(at: number, recordId: string, thanAt: number, thanRecordId: string): boolean {
  return at > thanAt || (at === thanAt && recordId > thanRecordId);
}

/** Plain code-unit order: every instance sorts keys the same way. */
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const round = (x: number) => Math.round(x * 10000) / 10000;
