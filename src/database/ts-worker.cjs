// Test-only bootstrap for startWorkerFile (worker-file.ts): runs a TypeScript worker file (process.argv[2]) in this
// thread, compiling it and the TypeScript files it imports with SWC (a dev dependency). The build never uses it.
const { transformFileSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformFileSync(filename, {
    swcrc: false,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
require(process.argv[2]);
