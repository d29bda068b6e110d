import { Logger } from '@nestjs/common';
import { DatabaseLogger } from './typeorm-logger';

describe('DatabaseLogger', () => {
  afterEach(() => jest.restoreAllMocks());

  it("shows migration:show's list and migration progress (TypeORM reports both through logSchemaBuild)", () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const logger = new DatabaseLogger();
    logger.logSchemaBuild('[ ] InitialSchema1764043200000');
    logger.logMigration('Migration InitialSchema1764043200000 has been executed successfully.');
    expect(log.mock.calls.map((c) => c[0])).toEqual([
      '[ ] InitialSchema1764043200000',
      'Migration InitialSchema1764043200000 has been executed successfully.',
    ]);
  });

  it('never writes query parameters, even when a query fails', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    new DatabaseLogger().logQueryError(new Error('boom'), "INSERT INTO boxes (license_key) VALUES ('SECRET-KEY')");
    expect(JSON.stringify(error.mock.calls)).not.toContain('SECRET-KEY');
  });
});
