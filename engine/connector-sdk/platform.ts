/**
 * Platform credentials, for connectors: a tenant's own secret wins; the platform's key from
 * the environment is in `ctx.config.settings` only when the operator offers the connector's
 * platform credentials to tenants (`ATLAS_PLATFORM_CREDENTIALS`). Where a platform credential
 * is used, what the tenant may target is bound by its admin-only settings (`ctx.platform`).
 */
import { ConnectorError } from './errors.ts';
import type { ActionContext } from './types.ts';

export interface Credential {
  value: string;
  /** True when it is the platform's, not the tenant's own. */
  platform: boolean;
}

/** The tenant secret `name`, else the platform's value of the same name when offered. */
export async function credential(ctx: ActionContext, name: string): Promise<Credential | undefined> {
  const own = await ctx.secret(name);
  if (own) return { value: own, platform: false };
  const platform = ctx.config.settings[name];
  return platform ? { value: platform, platform: true } : undefined;
}

/** The error of a call that has neither the tenant's credential nor an offered platform one. */
export function credentialMissing(ctx: ActionContext, name: string): ConnectorError {
  return ConnectorError.auth(
    'token_missing',
    `${name} is not set as a tenant secret, and the platform's is not offered to tenants for ${ctx.connectorId} (ATLAS_PLATFORM_CREDENTIALS)`,
  );
}

/** The bare address of a sender written `Name <addr@example.com>` or `addr@example.com`, lower case. */
export function mailAddress(sender: string): string {
  const angled = /<([^<>]*)>\s*$/.exec(sender);
  return (angled ? angled[1]! : sender).trim().toLowerCase();
}

/** The mailboxes the operator assigned to this tenant, lower case. */
export async function assignedMailboxes(ctx: ActionContext): Promise<string[]> {
  const { mailboxes } = await ctx.platform.settings();
  return Array.isArray(mailboxes) ? mailboxes.map((m) => String(m).trim().toLowerCase()) : [];
}

/**
 * The mailbox a platform mail credential acts as: the one asked for, else `fallback` (the
 * platform's default sender) when assigned to the tenant, else the tenant's first mailbox.
 * A mailbox the operator did not assign to the tenant is refused (fatal `mailbox_not_assigned`).
 */
export async function platformMailbox(
  ctx: ActionContext,
  requested: string | undefined,
  fallback: string | undefined,
  use: 'send from' | 'read',
): Promise<string> {
  const assigned = await assignedMailboxes(ctx);
  const chosen =
    requested ??
    (fallback !== undefined && assigned.includes(mailAddress(fallback)) ? fallback : assigned[0]);
  if (chosen === undefined)
    throw ConnectorError.fatal(
      'mailbox_not_assigned',
      `${ctx.connectorId}: the operator assigned no mailbox to this tenant (tenant settings "mailboxes")`,
    );
  if (!assigned.includes(mailAddress(chosen)))
    throw ConnectorError.fatal(
      'mailbox_not_assigned',
      `${ctx.connectorId}: this tenant may not ${use} ${mailAddress(chosen)} with the platform's credentials; the operator assigns mailboxes in the tenant's settings`,
    );
  return chosen;
}
