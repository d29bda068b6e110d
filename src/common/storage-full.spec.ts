import { QueryFailedError } from 'typeorm';
import { isStorageFull } from './storage-full';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('isStorageFull', () => {
  it.each(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100'])('recognises %s, also wrapped by TypeORM or as a cause', (code) => {
    expect(isStorageFull(withCode(code))).toBe(true);
    expect(isStorageFull(new QueryFailedError('COMMIT', [], withCode(code)))).toBe(true);
    expect(isStorageFull(new Error('group lost', { cause: new Error('x', { cause: withCode(code) }) }))).toBe(true);
  });

  it.each([withCode('EACCES'), withCode('SQLITE_BUSY'), withCode('23505'), new Error('boom'), null, 'ENOSPC'])(
    'does not mistake other failures (%#)',
    (error) => expect(isStorageFull(error)).toBe(false),
  );
});
