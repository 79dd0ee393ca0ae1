/**
 * Files: upload (multipart or a raw body), list with usage and limits, metadata, signed
 * download URLs, and delete. `POST /v1/files` is the one route that reads a body other than
 * JSON; it is bounded by the file limits, not ATLAS_BODY_LIMIT. `GET /v1/files/{id}/content`
 * serves the local driver's signed URLs without a token (the signature is the authority).
 */
import type { FileService } from '../../files/service.ts';
import type { AnyRoute } from '../route.ts';
import type { RouteDeps } from './deps.ts';
import { contentRoute, urlRoute } from './files-download.ts';
import { listRoute, metadataRoute, removeRoute } from './files-metadata.ts';
import { uploadRoute } from './files-upload.ts';

export { fileProblem, fileSchema, parseTtl } from './files-common.ts';

export function fileRoutes(deps: RouteDeps, files: FileService): AnyRoute[] {
  return [
    listRoute(files),
    uploadRoute(deps, files),
    metadataRoute(files),
    urlRoute(deps, files),
    contentRoute(deps, files),
    removeRoute(deps, files),
  ] as AnyRoute[];
}
