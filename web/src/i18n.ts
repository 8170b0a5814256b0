// Every word the app shows, in English and Welsh. Welsh must have every English key (the
// type says so), so a screen can never fall back to a half-translated page.
import { en as core } from "./messages/en";
import { cy as coreCy } from "./messages/cy";
import { en as account } from "./messages/account/en";
import { cy as accountCy } from "./messages/account/cy";

const en = { ...core, ...account };
const cy = { ...coreCy, ...accountCy };

export type Key = keyof typeof en;
export type Language = "en" | "cy";
export const LANGUAGES: readonly Language[] = ["en", "cy"];

export const MESSAGES: Record<Language, Record<Key, string>> = { en, cy };

let current: Language = "en";
const listeners = new Set<() => void>();

export function language(): Language {
  return current;
}

/** The app's language: the person's own once signed in, else what the browser prefers. */
export function setLanguage(next: Language): void {
  current = next;
  if (typeof document !== "undefined") document.documentElement.lang = next;
  try {
    globalThis.localStorage?.setItem("kith.language", next);
  } catch {
    // Private browsing may refuse storage: the language still holds for this visit.
  }
  listeners.forEach((listener) => listener());
}

export function onLanguage(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The first supported language among a person's own (their profile's order), if any. */
export function pick(languages: readonly string[] | undefined): Language | null {
  for (const tag of languages ?? []) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "en" || base === "cy") return base;
  }
  return null;
}

export function initialLanguage(): Language {
  try {
    const kept = globalThis.localStorage?.getItem("kith.language");
    if (kept === "en" || kept === "cy") return kept;
  } catch {
    // No storage: fall through to the browser's languages.
  }
  return pick(globalThis.navigator?.languages) ?? "en";
}

/** The text for ``key`` with ``{name}`` placeholders filled in. */
export function t(key: Key, values: Record<string, string | number> = {}): string {
  const text = MESSAGES[current][key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}
