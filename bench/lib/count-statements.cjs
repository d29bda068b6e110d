// Preloaded into the hub's processes (node --require) by bench/cpu-per-push.mjs --count: counts the SQL statements
// each process sends to PostgreSQL (pg's Client.query) and the transactions among them, written every 200 ms to
// $BENCH_COUNT_DIR/<pid>.json, so the benchmark can take the difference over its window, summed over the processes.
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_COUNT_DIR;
if (dir) {
  const counts = { statements: 0, transactions: 0 };
  const { Client } = require('pg');
  const query = Client.prototype.query;
  Client.prototype.query = function (config, ...rest) {
    const text = typeof config === 'string' ? config : config && config.text;
    if (text) {
      counts.statements++;
      if (/^\s*(BEGIN|START TRANSACTION)/i.test(text)) counts.transactions++;
    }
    return query.call(this, config, ...rest);
  };
  const file = path.join(dir, `${process.pid}.json`);
  const write = () => fs.writeFileSync(file, JSON.stringify(counts));
  setInterval(write, 200).unref();
  process.on('exit', write);
}
