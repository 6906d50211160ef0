// Runs SQL statements (argv[2..]) on one in-memory DuckDB and prints, for each,
// {"columns": [...], "types": [...], "rows": [[...], ...]} as a JSON array on stdout.
// Used by the table tests to read pinpipe's Parquet files with DuckDB.
const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const out = [];
  for (const sql of process.argv.slice(2)) {
    const reader = await conn.runAndReadAll(sql);
    out.push({
      columns: reader.columnNames(),
      types: reader.columnTypes().map((t) => t.toString()),
      rows: reader.getRowsJson(),
    });
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
