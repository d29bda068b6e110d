import 'reflect-metadata';
import { CliMain, runCliProcess, withCliDatabase } from '../common/cli';
import { CliCommand, runCommandLine } from '../common/command-line';
import { UnitOfWork } from '../database/unit-of-work';
import { DevicesService } from '../devices/devices.service';
import { DEVICES_ENTITIES } from '../devices/devices.module';
import { BoxAccessService, BoxAccessView } from './box-access.service';

const USAGE = `Usage:
  npm run box-access -- show <license_key>
  npm run box-access -- register <license_key> [--name <name>]
  npm run box-access -- token <license_key>          issue a new callback secret (printed once)
  npm run box-access -- clear-token <license_key>
  npm run box-access -- networks <license_key> <cidr>[,<cidr>…] | none
  npm run box-access -- enable|disable <license_key>
Uses the same environment as the server (DATABASE_URL, DATA_DIR, SQLITE_PATH). Commands other than show
register the box if it is not known yet.`;

const COMMANDS: Record<string, CliCommand> = {
  show: { args: ['license_key'] },
  register: { args: ['license_key'], options: ['name'] },
  token: { args: ['license_key'] },
  'clear-token': { args: ['license_key'] },
  networks: { args: ['license_key', 'cidr,…|none'] },
  enable: { args: ['license_key'] },
  disable: { args: ['license_key'] },
};

function describe(v: BoxAccessView): string {
  return [
    `box ${v.licenseKey}${v.name ? ` (${v.name})` : ''}: ${v.enabled ? 'enabled' : 'disabled'}`,
    `  callback token: ${v.hasCallbackToken ? 'set' : 'none'}`,
    `  allowed networks: ${v.allowedNetworks?.join(', ') ?? 'any'}`,
  ].join('\n');
}

/** Sets a box's access (secret, networks, enabled) directly in the database. */
export const runBoxAccessCli: CliMain = (args, env, out, err = out) =>
  runCommandLine(
    args,
    { name: 'box-access', usage: USAGE, commands: COMMANDS },
    out,
    err,
    ({ command, args: [licenseKey, networks], options }) =>
      withCliDatabase(env, DEVICES_ENTITIES, async (ds, config) => {
        const access = new BoxAccessService(new DevicesService(new UnitOfWork(ds)), config.BOX_AUTH_MODE);
        switch (command) {
          case 'show':
            out(describe(await access.describe(licenseKey)));
            break;
          case 'register':
            out(describe(await access.register(licenseKey, options.name)));
            break;
          case 'token': {
            const { token, box } = await access.issueToken(licenseKey);
            out(describe(box));
            out('Configure this upload URL on the box (the token is shown only now):');
            out(`http://<hub-host>:${config.PORT}/box-callbacks/${token}/recognition-records`);
            break;
          }
          case 'clear-token':
            out(describe(await access.clearToken(licenseKey)));
            break;
          case 'networks':
            out(describe(await access.setNetworks(licenseKey, networks === 'none' ? null : networks.split(','))));
            break;
          default:
            out(describe(await access.setEnabled(licenseKey, command === 'enable')));
        }
        return 0;
      }),
  );

if (require.main === module) runCliProcess(runBoxAccessCli);
