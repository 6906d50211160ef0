// The DuckDB oracle: runs sql/clean.sql and sql/q*.sql unchanged on a lake and
// writes each result as CSV (the same dialect as `pinpipe batch --out`), plus
// the cleaned tables and counts.json.
//
// With --parquet=DIR it also reads DIR/{pin,geo,user}.parquet (pinpipe's
// cleaned tables) and writes each as parquet_<table>.csv, in the same columns,
// formatting and order as its own <prefix>_<table>_table.csv, and their row
// counts and DuckDB column types into parquet.json.
//
// usage: node duckdb_oracle.cjs <sql dir> <lake dir> <prefix> <out dir> [--tables]
//        [--threads=N] [--parquet=DIR]
// Needs NODE_PATH=<tests/peers>/node_modules.
'use strict';
const fs = require('fs');
const path = require('path');
const { DuckDBInstance } = require('@duckdb/node-api');

const QUESTIONS = ['q1', 'q2', 'q3a', 'q3b', 'q4', 'q5', 'q6', 'q7', 'q8'];

function csvField(v) {
  if (v === null || v === undefined) return '';
  let s;
  if (Array.isArray(v)) {
    s = '[' + v.map((x) => (x === null ? 'null' : String(x))).join(', ') + ']';
  } else {
    s = String(v);
  }
  if (s === '' || /[",\r\n]/.test(s)) return '"' + s.replace(/"/g, '""') + '"';
  return s;
}

async function toCsv(conn, sql) {
  const reader = await conn.runAndReadAll(sql);
  const names = reader.columnNames();
  const rows = reader.getRowsJson();
  let out = names.map(csvField).join(',') + '\n';
  for (const row of rows) out += row.map(csvField).join(',') + '\n';
  return { csv: out, rows: rows.length };
}

(async () => {
  const [sqlDir, lake, prefix, outDir, ...flags] = process.argv.slice(2);
  const wantTables = flags.includes('--tables');
  const threads = (flags.find((f) => f.startsWith('--threads=')) || '').split('=')[1];
  const parquetDir = (flags.find((f) => f.startsWith('--parquet=')) || '').slice(10);
  fs.mkdirSync(outDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', threads ? { threads } : {});
  const conn = await instance.connect();
  const esc = (s) => s.replace(/'/g, "''");
  await conn.run(`SET VARIABLE lake = '${esc(lake)}'`);
  await conn.run(`SET VARIABLE prefix = '${esc(prefix)}'`);
  await conn.run(fs.readFileSync(path.join(sqlDir, 'clean.sql'), 'utf8'));
  const timings = {};
  let start = Date.now();
  // Materialize the cleaned tables once, as any DuckDB user would for 8 queries.
  for (const t of ['pin', 'geo', 'user']) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${t}_clean_t AS SELECT * FROM ${t}_clean`);
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE rejects_t AS SELECT * FROM rejects`);
  timings.read_and_clean = Date.now() - start;
  const counts = {};
  for (const t of ['pin', 'geo', 'user']) {
    const r = await conn.runAndReadAll(`SELECT count(*)::VARCHAR FROM ${t}_clean_t`);
    counts[t + '_rows'] = Number(r.getRowsJson()[0][0]);
    const j = await conn.runAndReadAll(
      `SELECT count(*) FILTER (WHERE NOT row_kept)::VARCHAR, count(*) FILTER (WHERE row_kept)::VARCHAR FROM rejects_t WHERE "table" = '${t}'`);
    counts[t + '_rejected'] = Number(j.getRowsJson()[0][0]);
    if (t === 'pin') counts.follower_count_rejected = Number(j.getRowsJson()[0][1]);
  }
  // Questions run over the materialized tables: swap the view names.
  for (const t of ['pin', 'geo', 'user']) {
    await conn.run(`CREATE OR REPLACE TEMP VIEW ${t}_clean_q AS SELECT * FROM ${t}_clean_t`);
  }
  for (const q of QUESTIONS) {
    let sql = fs.readFileSync(path.join(sqlDir, q + '.sql'), 'utf8');
    sql = sql.replace(/\b(pin|geo|user)_clean\b/g, '$1_clean_q');
    start = Date.now();
    const { csv } = await toCsv(conn, sql);
    timings[q] = Date.now() - start;
    fs.writeFileSync(path.join(outDir, q + '.csv'), csv);
  }
  if (wantTables) {
    const tables = {
      pin: 'SELECT * FROM pin_clean_t ORDER BY ind',
      geo: 'SELECT ind, country, coordinates, "timestamp"::VARCHAR AS "timestamp" FROM geo_clean_t ORDER BY ind',
      user: 'SELECT ind, user_name, age, date_joined::VARCHAR AS date_joined FROM user_clean_t ORDER BY ind',
    };
    for (const [t, sql] of Object.entries(tables)) {
      const { csv } = await toCsv(conn, sql);
      fs.writeFileSync(path.join(outDir, `${prefix}_${t}_table.csv`), csv);
    }
  }
  if (parquetDir) {
    // Timestamps are TIMESTAMP(isAdjustedToUTC) in the files: TIMESTAMP WITH
    // TIME ZONE in DuckDB, shown here in UTC like the oracle's own tables.
    await conn.run(`SET TimeZone = 'UTC'`);
    const info = {};
    for (const t of ['pin', 'geo', 'user']) {
      const file = `read_parquet('${esc(path.join(parquetDir, t + '.parquet'))}')`;
      const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${file}`);
      const types = d.getRowsJson().map((r) => [r[0], r[1]]);
      const n = await conn.runAndReadAll(`SELECT count(*)::VARCHAR FROM ${file}`);
      info[t] = { rows: Number(n.getRowsJson()[0][0]), types };
      const cols = types.map(([name, type]) =>
        type.startsWith('TIMESTAMP') ? `"${name}"::TIMESTAMP::VARCHAR AS "${name}"` : `"${name}"`);
      const { csv } = await toCsv(conn, `SELECT ${cols.join(', ')} FROM ${file} ORDER BY ind`);
      fs.writeFileSync(path.join(outDir, `parquet_${t}.csv`), csv);
    }
    fs.writeFileSync(path.join(outDir, 'parquet.json'), JSON.stringify(info, null, 1));
  }
  fs.writeFileSync(path.join(outDir, 'counts.json'), JSON.stringify({ counts, timings }, null, 1));
})().catch((e) => {
  console.error('oracle failed:', e && e.message ? e.message : e);
  process.exit(1);
});
