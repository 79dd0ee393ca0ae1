import { Readable } from 'node:stream';
import { ConnectorError, defineAction, expectArray, expectRecord } from 'atlas-engine/sdk';
import { driveClient, expectData, googleRoot, mapGoogleError } from '../../client.ts';

const FILE_FIELDS = 'id,name,mimeType,size,modifiedTime,webViewLink,parents';
const file = {
  type: 'object',
  required: ['id', 'name'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    mimeType: { type: 'string' },
    size: { type: 'string', description: 'Bytes, as a decimal string (Drive’s int64).' },
    modifiedTime: { type: 'string', format: 'date-time' },
    webViewLink: { type: 'string' },
    parents: { type: 'array', items: { type: 'string' } },
  },
};

function checkFile(value: unknown): Record<string, unknown> {
  const f = expectRecord(value, 'google drive file');
  if (typeof f['id'] !== 'string' || typeof f['name'] !== 'string')
    throw ConnectorError.invalidResponse('google drive file: no id or name');
  return f;
}

interface ListFilesInput {
  q?: string;
  pageSize?: number;
  pageToken?: string;
  orderBy?: string;
}

export const driveListFiles = defineAction<
  ListFilesInput,
  { files: Record<string, unknown>[]; nextPageToken?: string }
>({
  id: 'drive.listFiles',
  description: 'List or search Google Drive files the user can see.',
  readOnly: true,
  input: {
    type: 'object',
    additionalProperties: false,
    properties: {
      q: { type: 'string', description: "Drive query, e.g. `name contains 'invoice' and trashed = false`." },
      pageSize: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Page size.' },
      pageToken: { type: 'string', description: 'Next page token from a previous call.' },
      orderBy: { type: 'string', description: 'e.g. `modifiedTime desc`.' },
    },
  },
  output: {
    type: 'object',
    required: ['files'],
    properties: { files: { type: 'array', items: file }, nextPageToken: { type: 'string' } },
  },
  async run(ctx, input) {
    const drive = await driveClient(ctx);
    let data: unknown;
    try {
      ({ data } = await drive.files.list({ ...input, fields: `nextPageToken,files(${FILE_FIELDS})` }));
    } catch (err) {
      throw mapGoogleError(err, 'google drive');
    }
    const page = expectData(data, 'google drive files');
    const files = expectArray(page['files'] ?? [], 'google drive files').map(checkFile);
    return {
      files,
      ...(typeof page['nextPageToken'] === 'string' ? { nextPageToken: page['nextPageToken'] } : {}),
    };
  },
});

interface UploadFileInput {
  name?: string;
  mimeType?: string;
  content_base64?: string;
  atlas_file_id?: string;
  parents?: string[];
  description?: string;
}

export const driveUploadFile = defineAction<UploadFileInput, Record<string, unknown>>({
  id: 'drive.uploadFile',
  description:
    'Upload a file to Google Drive (multipart upload: metadata and content in one request, up to 5 MB): ' +
    "given as base64, or one of the tenant's files by id.",
  input: {
    type: 'object',
    additionalProperties: false,
    oneOf: [{ required: ['name', 'content_base64'] }, { required: ['atlas_file_id'] }],
    properties: {
      name: {
        type: 'string',
        minLength: 1,
        description: "File name (default with atlas_file_id: the file's).",
      },
      mimeType: {
        type: 'string',
        description: "Content type (default: the file's with atlas_file_id, else application/octet-stream).",
      },
      content_base64: { type: 'string', contentEncoding: 'base64', description: 'The bytes, base64.' },
      atlas_file_id: {
        type: 'string',
        description:
          "The id of one of the tenant's files (files.put, POST /v1/files), instead of content_base64.",
      },
      parents: { type: 'array', items: { type: 'string' }, description: 'Folder ids.' },
      description: { type: 'string', description: 'Shown in Drive.' },
    },
  },
  output: file,
  async run(ctx, input) {
    const MAX = 5 * 1024 * 1024;
    let bytes: Buffer;
    let name = input.name;
    let mimeType = input.mimeType;
    if (input.atlas_file_id !== undefined) {
      if (!ctx.files)
        throw ConnectorError.fatal('files_unavailable', 'file storage is not configured in this engine');
      const stored = await ctx.files.read(input.atlas_file_id, MAX);
      bytes = Buffer.from(stored.bytes);
      name ??= stored.info.name;
      mimeType ??= stored.info.contentType;
    } else {
      bytes = Buffer.from(input.content_base64 ?? '', 'base64');
    }
    // Google's limit for uploadType=multipart; larger files need a resumable upload.
    if (bytes.byteLength > MAX)
      throw ConnectorError.fatal('file_too_large', 'google drive: multipart uploads are limited to 5 MB');
    mimeType ??= 'application/octet-stream';
    const drive = await driveClient(ctx);
    let data: unknown;
    try {
      ({ data } = await drive.files.create(
        {
          requestBody: {
            name: name ?? 'file',
            mimeType,
            ...(input.parents ? { parents: input.parents } : {}),
            ...(input.description ? { description: input.description } : {}),
          },
          media: { mimeType, body: Readable.from([bytes]) },
          fields: FILE_FIELDS,
        },
        // googleapis builds the upload URL from the per-call rootUrl only; the client-wide one
        // is applied before the upload URL replaces the request URL, so without this the
        // upload would leave the configured base URL for www.googleapis.com.
        { rootUrl: googleRoot(ctx) },
      ));
    } catch (err) {
      throw mapGoogleError(err, 'google drive');
    }
    return checkFile(expectData(data, 'google drive file'));
  },
});
