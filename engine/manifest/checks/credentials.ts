// Secrets are referenced by name (`{{ secrets.STRIPE_KEY }}`, `secret: STRIPE_WEBHOOK_SECRET`);
// a literal that looks like a credential is rejected wherever it appears, so a key pasted
// into a manifest never reaches the repository, the database or a log.
import { walkStrings } from '../../expr/index.ts';
import type { ManifestDoc } from '../document.ts';

const PATTERNS: { re: RegExp; what: string }[] = [
  { re: /\b[sr]k_(live|test)_[A-Za-z0-9]{8,}/, what: 'a Stripe secret key' },
  { re: /\bwhsec_[A-Za-z0-9+/=]{8,}/, what: 'a webhook signing secret' },
  { re: /\bxox[abposr]-[A-Za-z0-9-]{8,}/, what: 'a Slack token' },
  { re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/, what: 'a JSON Web Token' },
  { re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: 'a PEM private key' },
];

/** Which credential a string looks like, if any. */
function credentialKind(text: string): string | undefined {
  return PATTERNS.find((p) => p.re.test(text))?.what;
}

export function checkCredentials(doc: ManifestDoc): void {
  walkStrings(doc.value, [], (text, at) => {
    const what = credentialKind(text);
    if (what === undefined) return;
    doc.report(
      at,
      'credential',
      `this looks like ${what}; store it as a tenant secret and refer to it by name, e.g. {{ secrets.API_KEY }}`,
    );
  });
}
