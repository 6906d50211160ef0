// Reads a Parquet file (argv[2]) with parquetjs-lite and prints every record
// as one JSON array on stdout (BigInt and Buffer as strings, Date as epoch ms).
const parquet = require('parquetjs-lite');

(async () => {
  const reader = await parquet.ParquetReader.openFile(process.argv[2]);
  const cursor = reader.getCursor();
  const rows = [];
  let rec;
  while ((rec = await cursor.next())) rows.push(rec);
  await reader.close();
  process.stdout.write(JSON.stringify(rows, (k, v) => {
    if (typeof v === 'bigint') return v.toString();
    if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString();
    return v;
  }));
})().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
