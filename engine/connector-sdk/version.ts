/**
 * The version of the connector SDK's surface (`atlas-engine/sdk`), apart from the engine's own
 * version: it changes major when something a connector relies on changes incompatibly. A
 * plugin states the range it accepts in `sdkVersion` (`^1.0.0`); Atlas refuses to start with
 * a plugin whose range excludes this version.
 */
export const SDK_VERSION = '1.0.0';
