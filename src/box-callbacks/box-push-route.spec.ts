import { PATH_METADATA } from '@nestjs/common/constants';
import { BOX_PUSH_ROUTE, BoxCallbacksController } from './box-callbacks.controller';

describe('BOX_PUSH_ROUTE (where the JSON parser lifts images out as LiftedText)', () => {
  // Read from the controller's own route metadata, so renaming a push route without the pattern fails here (the
  // images would then silently go the slower string way).
  const base = Reflect.getMetadata(PATH_METADATA, BoxCallbacksController) as string;
  const paths = (['receive', 'receiveWithToken'] as const).map((name) => {
    const handler = Object.getOwnPropertyDescriptor(BoxCallbacksController.prototype, name)!.value as object;
    return `/${base}/${Reflect.getMetadata(PATH_METADATA, handler) as string}`.replace(':token', 'callback-secret');
  });

  it('matches both push routes', () => {
    expect(paths).toEqual(['/box-callbacks/recognition-records', '/box-callbacks/callback-secret/recognition-records']);
    for (const path of paths) expect(BOX_PUSH_ROUTE.test(path)).toBe(true);
  });

  it('matches nothing else', () => {
    for (const path of [
      '/records',
      '/box-callbacks/a/b/recognition-records',
      '/box-callbacks/recognition-records/x',
      '/identities/recognition-records',
    ]) {
      expect(BOX_PUSH_ROUTE.test(path)).toBe(false);
    }
  });
});
