/**
 * The root of the errors Atlas reports to its callers: connectors' failures, the runtime's
 * refusals, the CLI's messages. Each carries a stable, machine-readable `code` that callers
 * branch on; the message is for people and may change.
 */
export class AtlasError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
