// DuckDB side of bench/table: loads DIR/source.parquet into memory, then times
// COPY ... TO parquet (snappy, zstd) on one thread, best of 3; prints JSON.
// Times are process CPU seconds (user + system), like table_bench's.
const { DuckDBInstance } = require('@duckdb/node-api');
const dir = process.argv[2];

(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run('SET threads = 1');
  await c.run(`CREATE TABLE pins AS SELECT * FROM read_parquet('${dir}/source.parquet')`);
  const out = {};
  for (const codec of ['snappy', 'zstd']) {
    let best = 1e9;
    const path = `${dir}/duckdb.${codec}.parquet`;
    for (let i = 0; i < 3; i++) {
      const t = process.cpuUsage();
      await c.run(`COPY pins TO '${path}' (FORMAT parquet, COMPRESSION ${codec})`);
      const d = process.cpuUsage(t);
      best = Math.min(best, (d.user + d.system) / 1e6);
    }
    const size = require('fs').statSync(path).size;
    out[codec] = { seconds: best, bytes: size };
  }
  // Our files are read back by DuckDB with the same row count.
  for (const codec of ['snappy', 'zstd']) {
    const r = await c.runAndReadAll(
        `SELECT count(*)::INTEGER, count(DISTINCT unique_id)::INTEGER FROM read_parquet('${dir}/pinpipe.${codec}.parquet')`);
    out[codec].pinpipe_file_rows = r.getRows()[0][0];
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
