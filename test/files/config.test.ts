import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../engine/config.ts';

const MB = 1024 * 1024;

describe('file storage configuration', () => {
  it('defaults to the local driver under ATLAS_HOME with the design quotas', () => {
    expect(loadConfig({}, '/srv/atlas').files).toEqual({
      storage: 'local',
      localDir: '/srv/atlas/.atlas/files',
      s3: {
        bucket: 'atlas-files',
        endpoint: undefined,
        region: 'us-east-1',
        forcePathStyle: false,
        accessKeyId: undefined,
        secretAccessKey: undefined,
      },
      maxFilesPerTenant: 500,
      maxStorageBytesPerTenant: 500 * MB,
      maxFileBytes: 100 * MB,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ATLAS_STORAGE: 's3',
      ATLAS_S3_BUCKET: 'kb_uploads',
      ATLAS_S3_ENDPOINT: 'https://project.supabase.co/storage/v1/s3',
      ATLAS_S3_REGION: 'eu-central-1',
      ATLAS_S3_FORCE_PATH_STYLE: 'true',
      ATLAS_S3_ACCESS_KEY_ID: 'AKID',
      ATLAS_S3_SECRET_ACCESS_KEY: 'secret',
      ATLAS_MAX_FILES_PER_TENANT: '50',
      ATLAS_MAX_STORAGE_MB_PER_TENANT: '2048',
      ATLAS_MAX_FILE_MB: '25',
    });
    expect(config.files).toMatchObject({
      storage: 's3',
      s3: {
        bucket: 'kb_uploads',
        endpoint: 'https://project.supabase.co/storage/v1/s3',
        region: 'eu-central-1',
        forcePathStyle: true,
        accessKeyId: 'AKID',
        secretAccessKey: 'secret',
      },
      maxFilesPerTenant: 50,
      maxStorageBytesPerTenant: 2048 * MB,
      maxFileBytes: 25 * MB,
    });
  });

  it.each([
    ['ATLAS_STORAGE', 'ftp', 'ATLAS_STORAGE must be local or s3 (got "ftp")'],
    ['ATLAS_S3_BUCKET', 'Bad Bucket', 'ATLAS_S3_BUCKET must be 3-63 lowercase letters'],
    ['ATLAS_S3_ENDPOINT', 'minio:9000', 'ATLAS_S3_ENDPOINT'],
    ['ATLAS_S3_FORCE_PATH_STYLE', 'yes', 'ATLAS_S3_FORCE_PATH_STYLE must be true or false (got "yes")'],
    ['ATLAS_S3_ACCESS_KEY_ID', 'AKID', 'ATLAS_S3_SECRET_ACCESS_KEY must be set together with its pair'],
    ['ATLAS_MAX_FILES_PER_TENANT', '0', 'ATLAS_MAX_FILES_PER_TENANT must be a whole number from 1'],
    ['ATLAS_MAX_FILE_MB', '1.5', 'ATLAS_MAX_FILE_MB must be a whole number from 1'],
  ])('rejects %s=%j with one sentence', (variable, value, message) => {
    const attempt = () => loadConfig({ [variable]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });
});
