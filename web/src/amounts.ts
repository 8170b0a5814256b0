// Hours and money as a person reads them, and as a screen reader says them: "1 hour 30
// minutes" rather than "1.5", "£12.50" shown with "12 pounds and 50 pence" spoken, and which
// way an amount went said in words ("to you", "from you"), never by a minus sign or a colour.
import { language, t } from "./i18n";
import type { Language } from "./i18n";

const LOCALES: Record<Language, string> = { en: "en-GB", cy: "cy-GB" };

/** Hours (as the ledger gives them, to two decimals) in words: "2 hours", "1 hour 30 minutes". */
export function hoursText(hours: number): string {
  const minutes = Math.round(Math.abs(hours) * 60);
  const whole = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const parts: string[] = [];
  if (whole > 0 || rest === 0) parts.push(whole === 1 ? t("amount.hour") : t("amount.hours", { count: whole }));
  if (rest > 0) parts.push(rest === 1 ? t("amount.minute") : t("amount.minutes", { count: rest }));
  return parts.join(" ");
}

/** The ledger's minutes (a statement's ``hour`` unit) as hours in words. */
export function minutesText(minutes: number): string {
  return hoursText(Math.abs(minutes) / 60);
}

/** Money in minor units as shown: "£12.50" (never signed: say the direction in words). */
export function moneyText(minor: number, currency: string, lang: Language = language()): string {
  try {
    return new Intl.NumberFormat(LOCALES[lang], { style: "currency", currency }).format(Math.abs(minor) / 100);
  } catch {
    return `${(Math.abs(minor) / 100).toFixed(2)} ${currency}`;
  }
}

/** Money in words, for a screen reader: "12 pounds and 50 pence", "1 pound", "50 pence". */
export function moneyWords(minor: number, currency: string): string {
  const amount = Math.abs(Math.round(minor));
  if (currency !== "GBP") return `${(amount / 100).toFixed(2)} ${currency}`;
  const pounds = Math.floor(amount / 100);
  const pence = amount % 100;
  const parts: string[] = [];
  if (pounds > 0 || pence === 0) parts.push(pounds === 1 ? t("amount.pound") : t("amount.pounds", { count: pounds }));
  if (pence > 0) parts.push(pence === 1 ? t("amount.penny") : t("amount.pence", { count: pence }));
  return parts.join(` ${t("amount.and")} `);
}

/** "12.50", "12", "£12.5" typed into a field, in minor units; null when it is not an amount
 * of money from 1p to £10,000. */
export function parseMoney(typed: string): number | null {
  const text = typed.trim().replace(/^£/, "").replace(/,/g, "");
  const found = /^(\d{1,5})(?:\.(\d{1,2}))?$/.exec(text);
  if (!found) return null;
  const minor = Number(found[1]) * 100 + Number((found[2] ?? "").padEnd(2, "0") || 0);
  return minor >= 1 && minor <= 1_000_000 ? minor : null;
}

/** "March 2026" for the ledger's ``2026-03``. */
export function monthText(month: string, lang: Language = language()): string {
  const date = new Date(`${month}-01T12:00:00Z`);
  if (Number.isNaN(date.getTime())) return month;
  return new Intl.DateTimeFormat(LOCALES[lang], { month: "long", year: "numeric", timeZone: "UTC" }).format(date);
}

export interface LineAmount {
  /** Shown on the screen. */
  shown: string;
  /** Said by a screen reader in place of ``shown``. */
  said: string;
}

/** A statement line's amount: hours for the ``hour`` unit (minutes), money otherwise. */
export function lineAmount(unit: string, amount: number): LineAmount {
  if (unit === "hour") {
    const text = minutesText(amount);
    return { shown: text, said: text };
  }
  return { shown: moneyText(amount, unit), said: moneyWords(amount, unit) };
}

/** Which way an amount went, in words: "To you" or "From you". */
export function direction(amount: number): string {
  return amount > 0 ? t("amount.toYou") : t("amount.fromYou");
}
