import './threadpool';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from 'node:util';
import { createApp } from './bootstrap';
import { AppConfig } from './config/app-config.service';
import { ConfigurationError, environmentProblems } from './config/environment';

/** The environment as the config module will see it: `.env` in the working directory, overridden by the process. */
function configurationProblems(): string[] {
  const file = path.resolve('.env');
  const fromFile = fs.existsSync(file) ? parseEnv(fs.readFileSync(file, 'utf8')) : {};
  return environmentProblems({ ...fromFile, ...process.env });
}

function exitWith(lines: string[]): never {
  for (const line of lines) console.error(line);
  process.exit(1);
}

async function main(): Promise<void> {
  // Checked before Nest starts, so a bad value is one line naming the variable, not a stack trace.
  const problems = configurationProblems();
  if (problems.length > 0) exitWith(problems);
  const app = await createApp();
  const config = app.get(AppConfig);
  await app.listen(config.get('PORT'), config.get('HOST'));
  const db = config.database;
  Logger.log(
    `Recognition Hub listening on ${await app.getUrl()} (${db.kind === 'sqlite' ? `SQLite ${db.path}` : 'PostgreSQL'}, images in ${config.imageDir})`,
    'Main',
  );
}

main().catch((e) => {
  // Configuration errors and failed migrations end here: say why and exit non-zero.
  exitWith(e instanceof ConfigurationError ? e.problems : [e instanceof Error ? e.message : String(e)]);
});
