import { AsyncLocalStorage } from 'node:async_hooks';
import { backgroundScope } from './background-scope';

describe('backgroundScope', () => {
  it('runs work queued from inside a request in the context the scope was made in', async () => {
    const requestContext = new AsyncLocalStorage<{ requestId: string }>();
    const detached = backgroundScope('test');
    let chain = Promise.resolve<string | undefined>(undefined);
    const seen: (string | undefined)[] = [];
    await requestContext.run({ requestId: 'req-1' }, async () => {
      // As the relay's kick() does: queue work onto a promise chain from inside the request.
      chain = chain.then(detached(() => requestContext.getStore()?.requestId));
      seen.push(await chain);
      seen.push(await Promise.resolve().then(() => requestContext.getStore()?.requestId));
    });
    // The detached work saw no request; plain work queued the same way still does (so the scope is what helps).
    expect(seen).toEqual([undefined, 'req-1']);
  });
});
