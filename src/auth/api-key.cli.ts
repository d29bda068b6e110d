import 'reflect-metadata';
import { AuditService } from '../audit/audit.service';
import { AUDIT_ENTITIES } from '../audit/audit.module';
import { CliMain, runCliProcess, withCliDatabase } from '../common/cli';
import { runCommandLine, UsageError } from '../common/command-line';
import { UnitOfWork } from '../database/unit-of-work';
import { ApiKeysService } from './api-keys.service';
import { ApiKey } from './entities/api-key.entity';
import { API_ROLES, ApiRole } from './roles';

const USAGE = `Usage:
  npm run api-key -- create --name <name> --role <${API_ROLES.join('|')}>
  npm run api-key -- list
  npm run api-key -- revoke --id <key id>
Uses the same environment as the server (DATABASE_URL, DATA_DIR, SQLITE_PATH). Creations and revocations are
audited with the actor "cli".`;

const COMMANDS = {
  create: { options: ['name', 'role'], required: ['name', 'role'] },
  list: {},
  revoke: { options: ['id'], required: ['id'] },
};

/** Manages REST API keys directly in the database: how the first admin key is made. */
export const runApiKeyCli: CliMain = (args, env, out, err = out) =>
  runCommandLine(args, { name: 'api-key', usage: USAGE, commands: COMMANDS }, out, err, ({ command, options }) => {
    const role = options.role as ApiRole | undefined;
    if (command === 'create' && !API_ROLES.includes(role!)) throw new UsageError(`create: --role must be one of ${API_ROLES.join(', ')}`);
    return withCliDatabase(env, [ApiKey, ...AUDIT_ENTITIES], async (ds) => {
      const uow = new UnitOfWork(ds);
      const keys = new ApiKeysService(uow, new AuditService(uow));
      if (command === 'create') {
        const { key, record } = await keys.create(options.name!, role!, 'cli');
        out(`Created ${record.role} key "${record.name}" (id ${record.id}). It is shown only now:`);
        out(key);
      } else if (command === 'list') {
        for (const k of await keys.list()) {
          out(`${k.id}  ${k.role.padEnd(16)} ${k.keyPrefix}…  ${k.revokedAt ? 'revoked' : 'active '}  ${k.name}`);
        }
      } else {
        await keys.revoke(options.id!, 'cli');
        out(`Revoked ${options.id}`);
      }
      return 0;
    });
  });

if (require.main === module) runCliProcess(runApiKeyCli);
