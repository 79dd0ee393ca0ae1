export { defineAction, defineConnector } from './define.ts';
export { ConnectorError, toError } from './errors.ts';
export type * from './types.ts';
export { JOB_TYPES } from './types.ts';
