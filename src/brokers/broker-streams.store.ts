import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work';

/**
 * The broker_streams table: each broker stream's outbox cursor and the lease of the one instance publishing it.
 * Every write is conditional on holding the lease, so an instance that lost it cannot move the cursor.
 */
@Injectable()
export class BrokerStreamsStore {
  constructor(private readonly uow: UnitOfWork) {}

  /** Creates the stream's row the first time it is enabled, starting after the newest event (no history replay). */
  async ensure(name: string, startAfter: number): Promise<void> {
    const d = this.uow.dialect;
    await this.uow.run((m) =>
      m.query(
        `INSERT INTO broker_streams (name, last_event_id, lease_owner, lease_until, updated_at)
         VALUES (${d.p(1)}, ${d.p(2)}, NULL, NULL, ${d.p(3)}) ON CONFLICT (name) DO NOTHING`,
        [name, startAfter, Date.now()],
      ),
    );
  }

  /** Takes or renews the lease; the cursor when this instance holds it, null when another one does. */
  async acquire(name: string, owner: string, leaseMs: number): Promise<number | null> {
    const d = this.uow.dialect;
    const now = Date.now();
    const rows = await this.uow.run(async (m) =>
      d.returnedRows<{ last_event_id: number | string }>(
        await m.query(
          `UPDATE broker_streams SET lease_owner = ${d.p(1)}, lease_until = ${d.p(2)}
           WHERE name = ${d.p(3)} AND (lease_owner = ${d.p(4)} OR lease_owner IS NULL OR lease_until < ${d.p(5)})
           RETURNING last_event_id`,
          [owner, now + leaseMs, name, owner, now],
        ),
      ),
    );
    return rows.length === 0 ? null : Number(rows[0].last_event_id);
  }

  /** Moves the cursor past events the broker confirmed and renews the lease; false when the lease was lost. */
  async advance(name: string, owner: string, lastEventId: number, leaseMs: number): Promise<boolean> {
    const d = this.uow.dialect;
    const now = Date.now();
    const rows = await this.uow.run(async (m) =>
      d.returnedRows<{ name: string }>(
        await m.query(
          `UPDATE broker_streams SET last_event_id = ${d.p(1)}, lease_until = ${d.p(2)}, updated_at = ${d.p(3)}
           WHERE name = ${d.p(4)} AND lease_owner = ${d.p(5)}
           RETURNING name`,
          [lastEventId, now + leaseMs, now, name, owner],
        ),
      ),
    );
    return rows.length > 0;
  }

  async release(name: string, owner: string): Promise<void> {
    const d = this.uow.dialect;
    await this.uow.run((m) =>
      m.query(`UPDATE broker_streams SET lease_owner = NULL, lease_until = NULL WHERE name = ${d.p(1)} AND lease_owner = ${d.p(2)}`, [
        name,
        owner,
      ]),
    );
  }

  /**
   * SQLite is embedded: only this process uses the file, so a lease left by a killed predecessor is stale and is
   * dropped now rather than waited out.
   */
  async releaseForeign(owner: string): Promise<void> {
    if (this.uow.dialect.kind !== 'sqlite') return;
    await this.uow.run((m) => m.query('UPDATE broker_streams SET lease_owner = NULL, lease_until = NULL WHERE lease_owner <> ?', [owner]));
  }

  async cursors(): Promise<Map<string, number>> {
    const rows: { name: string; last_event_id: number | string }[] = await this.uow.dataSource.query(
      'SELECT name, last_event_id FROM broker_streams',
    );
    return new Map(rows.map((r) => [r.name, Number(r.last_event_id)]));
  }
}
