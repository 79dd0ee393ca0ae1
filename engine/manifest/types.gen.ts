// The manifest types, generated from schemas/ into engine/connector-sdk/manifest.gen.ts by
// `npm run gen:types`: connectors see them through the SDK, and the SDK imports nothing of
// manifest/. Re-exported here for the engine's own modules.
export type * from '../connector-sdk/manifest.gen.ts';
