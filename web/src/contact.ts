// How a person names their account when they sign up or sign in: an email address, or a
// mobile phone number in international form (booking takes it as E.164: +447700900123).

export type AccountName = { email: string } | { phone: string };

const E164 = /^\+[1-9][0-9]{6,14}$/;

/**
 * What was typed, as booking takes it: an email when it has an @, else a mobile number with
 * the spaces, dashes, dots and brackets people type taken out; null when it is neither.
 */
export function accountName(typed: string): AccountName | null {
  const value = typed.trim();
  if (value.includes("@")) return { email: value };
  const phone = value.replace(/[\s().-]/g, "");
  return E164.test(phone) ? { phone } : null;
}
