import * as fs from 'node:fs';
import * as path from 'node:path';
import { typicalRecords } from './simulator/fixtures';

// Writes test/fixtures/sample-record.json, the record the README's quick start posts: the first typical
// fixture, made by the simulator with its fixed seed (the tests generate the others as they run).
const file = path.resolve(__dirname, '../../test/fixtures/sample-record.json');
fs.writeFileSync(file, `${JSON.stringify(typicalRecords()[0])}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)} (${fs.statSync(file).size} bytes)`);
