// ESLint flat config: type-aware promise rules, module import boundaries, and eslint-config-prettier last so
// that formatting is prettier's job alone (`npm run format`), never a lint error.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'eslint/config';
import boundaries from 'eslint-plugin-boundaries';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

// A module's public surface: what another module may import from it. Everything else in src/<module>/ is internal.
const PUBLIC_SURFACE = [
  'src/*/**/*.service.ts',
  'src/*/**/*.module.ts',
  'src/*/**/*.types.ts',
  'src/*/**/dto/**',
  'src/*/**/*.dto.ts',
  'src/*/**/*-errors.ts',
  'src/*/**/*-error.ts',
  'src/*/**/*.errors.ts',
  'src/*/**/*.error.ts',
  'src/*/**/*.decorator.ts',
  'src/*/**/*.decorators.ts',
  // A module's part of the OpenAPI document (wire format, event envelopes, auth refusals): its public contract,
  // collected by the composition root (src/openapi.ts).
  'src/*/**/*.openapi.ts',
  // Shared kernel: plumbing modules with no domain state, used by every module as a library.
  'src/common/**',
  'src/config/**',
  'src/database/**',
  'src/logging/**',
  // Contracts that other modules are meant to use: the role names that @Roles() takes, the domain event catalogue
  // that publishers and listeners share, and the ImageStore port that modules inject.
  'src/auth/roles.ts',
  'src/events/domain-events.ts',
  'src/images/image-store.ts',
];

// TypeORM entities belong to their module; only that module may import them, plus the app's entity list (composed at
// the top, beside app.module.ts) and migrations.
const ENTITIES = 'src/*/**/entities/**';
const ENTITY_READERS = ['src/entities.ts', 'src/database/migrations/**'];

// BASELINE of existing boundary violations, burnt down to none (issue 14). Each entry would allow exactly one
// importing file to import exactly one internal file of another module. Never add one for new code: expose the thing
// through the module's public surface instead (a *.types.ts file, a service method, or a re-export in *.module.ts).
/** @type {[string, string][]} */
const BASELINE = [];

// A baseline entry whose import has gone away must be deleted, so that the exception cannot be reused later.
for (const [from, to] of BASELINE) {
  const dir = path.dirname(path.join(import.meta.dirname, from));
  const specifiers = [...readFileSync(path.join(import.meta.dirname, from), 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => m[1]);
  const imported = specifiers.some((spec) =>
    [`${spec}.ts`, `${spec}/index.ts`, spec].some(
      (candidate) => existsSync(path.join(dir, candidate)) && path.join(dir, candidate) === path.join(import.meta.dirname, to),
    ),
  );
  if (!imported) throw new Error(`eslint.config.mjs: BASELINE entry ${from} -> ${to} no longer matches an import; delete it`);
}

export default defineConfig(
  {
    ignores: ['dist/**', 'dist-tools/**', 'coverage/**', 'node_modules/**', 'bench/.work/**', 'data/**'],
  },
  // Some existing eslint-disable comments name rules of the recommended sets, which are not switched on yet.
  { linterOptions: { reportUnusedDisableDirectives: 'off' } },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      // A promise nobody awaits loses its rejection (an unhandled rejection, or a silently dropped error).
      '@typescript-eslint/no-floating-promises': 'error',
      // An async function where a void callback is expected (event handlers, array callbacks) has the same problem.
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { node: { extensions: ['.ts', '.js'] } },
      'boundaries/elements': [
        { type: 'module', pattern: 'src/*', capture: ['module'], partialMatch: false },
        // The rest of src/ (main.ts, bootstrap.ts, app.module.ts) is the composition root that wires modules together.
        { type: 'app', pattern: 'src', partialMatch: false },
      ],
      'boundaries/files': [
        { category: 'public', pattern: PUBLIC_SURFACE },
        { category: 'entity', pattern: ENTITIES },
      ],
    },
    rules: {
      // Checks every import between two different elements (imports inside one module are not checked).
      // Policies are read in order and the last one that matches decides.
      'boundaries/dependencies': [
        'error',
        {
          default: 'allow',
          policies: [
            {
              disallow: { to: { element: { type: 'module' } } },
              message: 'import another module only through its public surface (see PUBLIC_SURFACE in eslint.config.mjs)',
            },
            { allow: { to: { file: { categories: 'public' } } } },
            {
              disallow: { to: { file: { categories: 'entity' } } },
              message: "another module's entities are internal to it: use its services (see eslint.config.mjs)",
            },
            { from: { file: { path: ENTITY_READERS } }, allow: { to: { file: { categories: 'entity' } } } },
            ...BASELINE.map(([from, to]) => ({ from: { file: { path: from } }, allow: { to: { file: { path: to } } } })),
          ],
        },
      ],
    },
  },
  prettier,
);
