// Starts s3rver on 127.0.0.1 with objects written atomically, as S3 writes them.
// Usage: node s3.cjs <directory> <port>
//
// s3rver 3.7 creates an object's file, streams the body into it and writes its metadata last,
// and a GetObject in between finds the object with no (or part of its) body: a reader polling
// for an object (a test waiting for a retried upload) could see an empty one, which S3 never
// shows. Here the body goes to a temporary file beside it (a name without s3rver's object
// suffix, so listings skip it), is flushed, the metadata is written, and a rename then makes the
// whole object appear at once. Multipart completion goes through putObject too. An overwrite
// still has a moment where the new metadata meets the old body (they are two files), which S3
// does not have.
"use strict";

const crypto = require("crypto");
const fs = require("fs-extra");
const path = require("path");
const { pipeline, Transform } = require("stream");
const S3rver = require("s3rver");
const FilesystemStore = require("s3rver/lib/stores/filesystem");

let writes = 0;

FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, "object");
  await fs.mkdirp(path.dirname(objectPath));
  const partial = `${objectPath}.writing-${process.pid}-${++writes}`;
  try {
    const md5 = crypto.createHash("md5");
    let size = 0;
    if (Buffer.isBuffer(object.content)) {
      await fs.writeFile(partial, object.content);
      md5.update(object.content);
      size = object.content.length;
    } else {
      const count = new Transform({
        transform(chunk, encoding, callback) {
          md5.update(chunk, encoding);
          size += chunk.length;
          callback(null, chunk);
        },
      });
      // Resolves once the file is flushed and closed, not when the last chunk was read.
      await new Promise((resolve, reject) =>
        pipeline(object.content, count, fs.createWriteStream(partial), (err) => (err ? reject(err) : resolve())),
      );
    }
    const digest = md5.digest("hex");
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    await fs.rename(partial, objectPath);
    return { size, md5: digest };
  } catch (err) {
    await fs.remove(partial).catch(() => {});
    throw err;
  }
};

const [directory, port] = process.argv.slice(2);
fs.ensureDirSync(directory);
new S3rver({ directory, address: "127.0.0.1", port: Number(port || 0), silent: true, vhostBuckets: false })
  .run()
  .then(({ address, port }) => console.log(`S3rver listening on ${address}:${port}`))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
