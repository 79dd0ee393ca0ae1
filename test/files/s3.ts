/** An S3-protocol server (s3rver) on 127.0.0.1, in this process, with the `atlas-files` bucket. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface S3Server {
  url: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'atlas-files'): Promise<S3Server> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    env: {
      ATLAS_STORAGE: 's3',
      ATLAS_S3_BUCKET: bucket,
      ATLAS_S3_ENDPOINT: url,
      ATLAS_S3_FORCE_PATH_STYLE: 'true',
      ATLAS_S3_ACCESS_KEY_ID: 'S3RVER',
      ATLAS_S3_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async stop() {
      server.httpServer?.closeAllConnections();
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
