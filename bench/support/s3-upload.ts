// The upload step of the usual backup script, as a small node program:
//   node s3-upload.js <file> <bucket> <key> <endpoint>
// A streamed multipart upload with @aws-sdk/lib-storage (credentials from the environment).
import { createReadStream } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const [file, bucket, key, endpoint] = process.argv.slice(2);
if (file === undefined || bucket === undefined || key === undefined || endpoint === undefined) {
  process.stderr.write('usage: s3-upload <file> <bucket> <key> <endpoint>\n');
  process.exit(2);
}
const client = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
await new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(file) }, partSize: 16 * 1024 * 1024, queueSize: 4 }).done();
client.destroy();
