// Imported first by main.ts, before anything touches libuv's thread pool (its size is fixed on first use).
// Durable ingest waits on fsyncs (the SQLite WAL; images have writer threads of their own) that sit on that pool;
// with the default 4 threads a few slow disk flushes queue every other file operation behind them.
process.env.UV_THREADPOOL_SIZE ??= '16';
