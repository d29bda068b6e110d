// Module resolution hook for the shared load tools (../shared/bench): when a bare import such as
// 'autocannon', 'better-sqlite3' or 'jpeg-js' is not installed next to them, resolve it from this
// repository's node_modules instead, so the tools run unchanged on a clean clone without their own install.
// (NODE_PATH does not apply to ES modules, hence a hook.)
let fallbackParent;

export function initialize(data) {
  fallbackParent = data.fallbackParent;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    const bare = !/^(\.|\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
    if (!bare || e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return nextResolve(specifier, { ...context, parentURL: fallbackParent });
  }
}
