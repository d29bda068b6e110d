import 'reflect-metadata';
import { runCliProcess, withCliDatabase } from '../common/cli';
import { UnitOfWork } from '../database/unit-of-work';
import { ApiKeysService } from './api-keys.service';
import { API_ROLES, ApiRole } from './roles';

const USAGE = `Usage:
  npm run api-key -- create --name <name> --role <${API_ROLES.join('|')}>
  npm run api-key -- list
  npm run api-key -- revoke --id <key id>
Uses the same environment as the server (DATABASE_URL, DATA_DIR, SQLITE_PATH).`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Manages REST API keys directly in the database: how the first admin key is made. */
export async function runApiKeyCli(args: string[], env: Record<string, unknown>, out: (line: string) => void): Promise<number> {
  const [command] = args;
  if (!command || !['create', 'list', 'revoke'].includes(command)) {
    out(USAGE);
    return 2;
  }
  return withCliDatabase(env, async (ds) => {
    const keys = new ApiKeysService(new UnitOfWork(ds));
    if (command === 'create') {
      const name = option(args, 'name');
      const role = option(args, 'role') as ApiRole | undefined;
      if (!name || !role || !API_ROLES.includes(role)) {
        out(USAGE);
        return 2;
      }
      const { key, record } = await keys.create(name, role, 'cli');
      out(`Created ${record.role} key "${record.name}" (id ${record.id}). It is shown only now:`);
      out(key);
    } else if (command === 'list') {
      for (const k of await keys.list()) {
        out(`${k.id}  ${k.role.padEnd(16)} ${k.keyPrefix}…  ${k.revokedAt ? 'revoked' : 'active '}  ${k.name}`);
      }
    } else {
      const id = option(args, 'id');
      if (!id) {
        out(USAGE);
        return 2;
      }
      await keys.revoke(id);
      out(`Revoked ${id}`);
    }
    return 0;
  });
}

if (require.main === module) runCliProcess(runApiKeyCli);
