import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb, queryRows, testDbKind } from './helpers/test-database';

/*
 * Admin changes to boxes, webhook subscriptions and API keys write their audit row in the change's own transaction:
 * one row per change, and no change without its row (a crash or failure between the two would lose the audit).
 */
describeDb('audit rows commit with the change they record', () => {
  let t: TestApp;
  let admin: { key: string; id: string };
  let boxId: string;

  const send = (method: 'post' | 'patch' | 'delete', path: string, body?: Json) => {
    const req = t.http()[method](path).set('x-api-key', admin.key);
    return body ? req.send(body) : req;
  };
  const auditRows = (action: string, subjectId: string) =>
    queryRows<{ actor: string; subject_type: string }>(
      t.dataSource,
      'SELECT actor, subject_type FROM audit_log WHERE action = ? AND subject_id = ?',
      [action, subjectId],
    );
  const expectOneRow = async (action: string, subjectType: string, subjectId: string) =>
    expect(await auditRows(action, subjectId)).toEqual([{ actor: `api-key:${admin.id}`, subject_type: subjectType }]);

  /** A database trigger that makes inserting an audit row with this action fail; the returned function drops it. */
  async function refuseAudit(action: string): Promise<() => Promise<void>> {
    const literal = `'${action.replace(/'/g, "''")}'`;
    if (testDbKind() === 'sqlite') {
      await t.dataSource.query(
        `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log WHEN NEW.action = ${literal} BEGIN SELECT RAISE(ABORT, 'audit refused'); END`,
      );
      return async () => void (await t.dataSource.query('DROP TRIGGER refuse_audit'));
    }
    await t.dataSource.query(
      `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$`,
    );
    await t.dataSource.query(
      `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.action = ${literal}) EXECUTE FUNCTION refuse_audit()`,
    );
    return async () => {
      await t.dataSource.query('DROP TRIGGER refuse_audit ON audit_log');
      await t.dataSource.query('DROP FUNCTION refuse_audit()');
    };
  }

  beforeAll(async () => {
    t = await startTestApp();
    admin = await createApiKey(t, 'admin');
    await push(t, boxRecord({ box: 'AUDIT-BOX', timestamp: 1_700_000_000_000 }));
    [{ id: boxId }] = await queryRows<{ id: string }>(t.dataSource, 'SELECT id FROM boxes WHERE license_key = ?', ['AUDIT-BOX']);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('PATCH /boxes/{id} writes one box.updated row', async () => {
    await send('patch', `/boxes/${boxId}`, { name: 'Gate 3' }).expect(200);
    await expectOneRow('box.updated', 'box', boxId);
  });

  it('creating, updating and deleting a webhook subscription write one row each', async () => {
    const created = await send('post', '/webhooks/subscriptions', { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] }).expect(201);
    const id = created.body.id as string;
    await expectOneRow('webhook.subscription.created', 'webhook-subscription', id);
    await send('patch', `/webhooks/subscriptions/${id}`, { enabled: false }).expect(200);
    await expectOneRow('webhook.subscription.updated', 'webhook-subscription', id);
    await send('delete', `/webhooks/subscriptions/${id}`).expect(204);
    await expectOneRow('webhook.subscription.deleted', 'webhook-subscription', id);
  });

  it('creating and revoking an API key write one row each', async () => {
    const created = await send('post', '/api-keys', { name: 'audited', role: 'reader' }).expect(201);
    const id = created.body.id as string;
    await expectOneRow('api-key.created', 'api-key', id);
    await send('delete', `/api-keys/${id}`).expect(200);
    await expectOneRow('api-key.revoked', 'api-key', id);
  });

  it('rolls a box change back when its audit row cannot be written, and does not answer 2xx', async () => {
    const allow = await refuseAudit('box.updated');
    try {
      const res = await send('patch', `/boxes/${boxId}`, { name: 'Never saved', enabled: false });
      expect(res.status).toBeGreaterThanOrEqual(500);
    } finally {
      await allow();
    }
    expect(await queryRows(t.dataSource, 'SELECT name FROM boxes WHERE id = ?', [boxId])).toEqual([{ name: 'Gate 3' }]);
    expect(await auditRows('box.updated', boxId)).toHaveLength(1);
  });

  it('rolls a new webhook subscription and an API key revocation back when their audit rows cannot be written', async () => {
    let allow = await refuseAudit('webhook.subscription.created');
    try {
      const res = await send('post', '/webhooks/subscriptions', { url: 'http://127.0.0.1:9/refused', eventTypes: ['*'] });
      expect(res.status).toBeGreaterThanOrEqual(500);
    } finally {
      await allow();
    }
    expect(await queryRows(t.dataSource, `SELECT id FROM webhook_subscriptions WHERE url = ?`, ['http://127.0.0.1:9/refused'])).toEqual([]);

    const key = await createApiKey(t, 'reader', 'kept');
    allow = await refuseAudit('api-key.revoked');
    try {
      const res = await send('delete', `/api-keys/${key.id}`);
      expect(res.status).toBeGreaterThanOrEqual(500);
    } finally {
      await allow();
    }
    await t.http().get('/records').set('x-api-key', key.key).expect(200);
  });
});
