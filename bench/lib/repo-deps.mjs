// Preload with `node --import <this file> ../shared/bench/<tool>.mjs`: see repo-deps-hooks.mjs.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const repoPackageJson = path.resolve(import.meta.dirname, '../../package.json');
register('./repo-deps-hooks.mjs', import.meta.url, { data: { fallbackParent: pathToFileURL(repoPackageJson).href } });
