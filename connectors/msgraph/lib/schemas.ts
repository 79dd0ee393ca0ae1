/** Schemas shared by the Graph actions. */

export const addressList = {
  type: 'array',
  items: { type: 'string', format: 'email' },
  description: 'Email addresses.',
};

export const mailbox = {
  type: 'string',
  minLength: 1,
  description: 'The mailbox (user id or user principal name); defaults to MS_MAIL_SENDER.',
};

export function recipients(addresses: string[] | undefined) {
  return (addresses ?? []).map((address) => ({ emailAddress: { address } }));
}
