/** A connector loaded from outside the repository (`ATLAS_CONNECTORS`): where it came from. */
export interface PluginInfo {
  /** The connector id it declares. */
  id: string;
  /** The entry of ATLAS_CONNECTORS it was loaded from: an npm package name or a path. */
  source: string;
  /** The file its module resolved to. */
  file: string;
  /** Its package's name and version, when it has a package.json. */
  package?: { name: string; version: string };
  /** The SDK range it accepts. */
  sdkVersion: string;
}
