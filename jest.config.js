// Nest 12 packages are ESM; Jest's CommonJS runtime cannot require() them on Node 20, so SWC compiles
// them (and our TypeScript, with decorator metadata) to CommonJS for the tests.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@apidevtools)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

module.exports = {
  // Two files at a time even on 2 cores: each end-to-end file mostly waits (its own database, spawned hub processes,
  // timers), and every file has its own database, data directory, ports and broker topics (clean-clone CI on 30 Nov:
  // 601 s for the whole suite, against 774 s for a smaller suite one file at a time).
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  testTimeout: 60_000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...base,
      displayName: 'e2e:sqlite',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      setupFiles: ['<rootDir>/test/setup/use-sqlite.ts'],
    },
    {
      ...base,
      displayName: 'e2e:postgres',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/postgres-global-setup.ts',
      setupFiles: ['<rootDir>/test/setup/use-postgres.ts'],
    },
  ],
};
