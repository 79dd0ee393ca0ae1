import { type ActionContext, ConnectorError, type FileAccess, type JsonSchema } from 'atlas-engine/sdk';

export const fileId: JsonSchema = {
  type: 'string',
  format: 'uuid',
  description: 'The id of a file of this tenant (from files.put, files.list or POST /v1/files).',
};

export const fileInfo: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'contentType', 'size', 'sha256', 'createdAt'],
  properties: {
    id: fileId,
    name: { type: 'string', description: 'The file name.' },
    contentType: { type: 'string', description: 'Media type, checked against the bytes.' },
    size: { type: 'integer', description: 'Bytes.' },
    sha256: { type: 'string', description: 'Hex digest of the bytes.' },
    createdBy: { type: 'string', description: 'Who stored it: a user, run:<id> or job:<id>.' },
    createdAt: { type: 'string', format: 'date-time', description: 'When it was stored.' },
  },
};

/** The tenant's files, which the engine lends every action it runs. */
export function filesOf(ctx: ActionContext): FileAccess {
  if (!ctx.files)
    throw ConnectorError.fatal('files_unavailable', 'file storage is not configured in this engine');
  return ctx.files;
}
