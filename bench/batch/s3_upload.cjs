// Uploads every file under <lake>/topics to an S3 bucket (s3rver in the batch
// benchmark), keys relative to <lake>, a few PUTs in flight at a time.
//
// usage: node s3_upload.cjs <lake dir> <endpoint> <bucket>
// Needs NODE_PATH=<tests/peers>/node_modules. Credentials are s3rver's S3RVER/S3RVER.
'use strict';
const fs = require('fs');
const path = require('path');
const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');

function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

(async () => {
  const [lake, endpoint, bucket] = process.argv.slice(2);
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const files = walk(path.join(lake, 'topics'), []);
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      const body = fs.readFileSync(file);
      bytes += body.length;
      const key = path.relative(lake, file).split(path.sep).join('/');
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  console.log(JSON.stringify({ objects: files.length, bytes }));
})().catch((e) => {
  console.error('upload failed:', e && e.message ? e.message : e);
  process.exit(1);
});
