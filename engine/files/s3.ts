/**
 * The s3 driver: any S3-compatible service (AWS S3, Supabase Storage's S3 endpoint, MinIO,
 * R2) through the official SDK, loaded on first use. A PutObject is atomic on the service's
 * side: an interrupted one stores nothing. Checksums are computed only where the operation
 * requires them: the SDK's default (a CRC trailer on every streamed upload) is not
 * understood by every S3-compatible service.
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { FilesConfig } from '../config.ts';
import {
  type ByteRange,
  ObjectMissingError,
  type PutSource,
  type Storage,
  StorageUnavailableError,
  storageFailure,
} from './storage.ts';

type Sdk = typeof import('@aws-sdk/client-s3');

export function makeS3Storage(config: FilesConfig['s3']): Storage {
  let loaded: Promise<{ sdk: Sdk; client: S3Client }> | undefined;
  const load = () => {
    loaded ??= (async () => {
      const sdk = await import('@aws-sdk/client-s3');
      const client = new sdk.S3Client({
        region: config.region,
        forcePathStyle: config.forcePathStyle,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
        ...(config.accessKeyId && config.secretAccessKey
          ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
          : {}),
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // Atlas retries at its own level (the client's next request); a dead service answers fast.
        maxAttempts: 2,
      });
      return { sdk, client };
    })();
    return loaded;
  };
  const Bucket = config.bucket;
  return {
    kind: 's3',
    async put(key, source: PutSource) {
      const { sdk, client } = await load();
      try {
        await client.send(
          new sdk.PutObjectCommand({
            Bucket,
            Key: key,
            Body: source.body,
            ContentLength: source.size,
            ContentType: source.contentType,
          }),
        );
      } catch (err) {
        source.body.destroy();
        throw unavailable(err);
      }
    },
    async get(key, range?: ByteRange) {
      const { sdk, client } = await load();
      try {
        const out = await client.send(
          new sdk.GetObjectCommand({
            Bucket,
            Key: key,
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        );
        if (!(out.Body instanceof Readable)) throw new StorageUnavailableError('s3: the object has no body');
        return out.Body;
      } catch (err) {
        if (isMissing(err)) throw new ObjectMissingError(`no object ${key}`);
        throw unavailable(err);
      }
    },
    async head(key) {
      const { sdk, client } = await load();
      try {
        const out = await client.send(new sdk.HeadObjectCommand({ Bucket, Key: key }));
        return { size: out.ContentLength ?? 0 };
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw unavailable(err);
      }
    },
    async delete(key) {
      const { sdk, client } = await load();
      try {
        await client.send(new sdk.DeleteObjectCommand({ Bucket, Key: key }));
      } catch (err) {
        if (!isMissing(err)) throw unavailable(err);
      }
    },
    async *list(prefix) {
      const { sdk, client } = await load();
      let token: string | undefined;
      do {
        let out: import('@aws-sdk/client-s3').ListObjectsV2CommandOutput;
        try {
          out = await client.send(
            new sdk.ListObjectsV2Command({
              Bucket,
              Prefix: prefix,
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
        } catch (err) {
          throw unavailable(err);
        }
        for (const item of out.Contents ?? []) if (item.Key) yield item.Key;
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    },
    async presign(key, ttlSeconds, disposition, contentType) {
      const { sdk, client } = await load();
      const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
      return getSignedUrl(
        client,
        new sdk.GetObjectCommand({
          Bucket,
          Key: key,
          ResponseContentDisposition: disposition,
          ResponseContentType: contentType,
        }),
        { expiresIn: ttlSeconds },
      );
    },
    close() {
      void loaded?.then(({ client }) => client.destroy());
    },
  };
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

function unavailable(err: unknown): Error {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const what = e.$metadata?.httpStatusCode
    ? `status ${e.$metadata.httpStatusCode}`
    : (e.code ?? e.name ?? 'error');
  return storageFailure('s3', what, err);
}
