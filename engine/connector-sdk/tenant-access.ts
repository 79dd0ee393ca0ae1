// What the engine lends an action besides HTTP: the tenant's files, and the operator's grants to the tenant.

export interface FileInfo {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  createdBy: string;
  createdAt: string;
}

export interface FileAccess {
  put(input: {
    name: string;
    contentType?: string;
    body: Uint8Array | AsyncIterable<Uint8Array>;
    /** At most this many bytes (the tenant's file limit applies too). */
    maxBytes?: number;
  }): Promise<FileInfo>;
  info(id: string): Promise<FileInfo>;
  /** The whole file; `file_too_large` when it has more than `maxBytes`. */
  read(id: string, maxBytes: number): Promise<{ info: FileInfo; bytes: Uint8Array }>;
  url(id: string, ttlSeconds: number): Promise<{ url: string; expiresAt: string }>;
  list(query: {
    prefix?: string;
    limit: number;
    cursor?: string;
  }): Promise<{ items: FileInfo[]; nextCursor?: string }>;
  delete(id: string): Promise<void>;
}

/**
 * A tenant's admin-only settings (`tenants.settings`, written with `PUT /v1/tenants/:id/settings`,
 * never by the tenant). Other keys may be present; connectors read the ones below.
 */
export interface TenantSettings {
  /** Mailboxes the tenant may send from and read through platform mail credentials (Graph, Resend). */
  mailboxes?: string[];
  /** The tenant's budget on platform LLM keys; without it, none may be used. */
  llm?: { tokensPerDay?: number };
  /** Chats the tenant may write to with the platform Telegram bot. */
  telegram?: { chats?: Array<string | number> };
  [key: string]: unknown;
}

/** The operator's grants to the tenant an action runs for. */
export interface PlatformAccess {
  /** The tenant's admin-only settings (read once per action call). */
  settings(): Promise<TenantSettings>;
  /**
   * Before a call with a platform LLM key: fails (fatal `budget_exceeded`) when the tenant has
   * spent its tokens of the day (UTC), or was assigned none.
   */
  checkTokens(): Promise<void>;
  /** After that call: counts the tokens it used against today's budget. */
  spendTokens(tokens: number): Promise<void>;
}
