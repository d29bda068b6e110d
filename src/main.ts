import './threadpool';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap';
import { AppConfig } from './config/app-config.service';

async function main(): Promise<void> {
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
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
