// Times as a person reads them: in their own time zone, in words ("Tuesday 8 December at
// 10:00"), never as UTC or an ISO string.
import type { Language } from "./i18n";

const LOCALES: Record<Language, string> = { en: "en-GB", cy: "cy-GB" };

/** "Tuesday 8 December at 10:00" in ``zone``. */
export function when(iso: string, zone: string, lang: Language): string {
  const date = new Date(iso);
  const day = new Intl.DateTimeFormat(LOCALES[lang], {
    weekday: "long",
    day: "numeric",
    month: "long",
    timeZone: zone,
  }).format(date);
  return `${day} ${lang === "cy" ? "am" : "at"} ${clock(date, zone)}`;
}

/** "Tuesday 8 December" for a local calendar day such as ``2026-12-08``. */
export function day(isoDay: string, lang: Language): string {
  return new Intl.DateTimeFormat(LOCALES[lang], {
    weekday: "long",
    day: "numeric",
    month: "long",
    timeZone: "UTC",
  }).format(new Date(`${isoDay}T12:00:00Z`));
}

/** "10:00" in ``zone``. */
export function clock(date: Date, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: zone,
  }).format(date);
}

/** The local calendar day (``2026-12-08``) and hour of an instant in ``zone``. */
export function localParts(date: Date, zone: string): { day: string; hour: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      hourCycle: "h23",
      timeZone: zone,
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) };
}

/** The offset of ``zone`` from UTC at ``date``, in minutes (Europe/London in summer: 60). */
export function offsetMinutes(date: Date, zone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone: zone,
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  const asUtc = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
  );
  return Math.round((asUtc - date.getTime()) / 60000);
}

/** A local day and whole hour in ``zone`` as an ISO instant with its offset, as the API
 * takes a visit's start (``2026-12-08T10:00:00+00:00``). */
export function startsAt(isoDay: string, hour: number, zone: string): string {
  const guess = new Date(`${isoDay}T${String(hour).padStart(2, "0")}:00:00Z`);
  // The offset at the guess, then again at the corrected instant (a change of clocks between).
  let offset = offsetMinutes(guess, zone);
  offset = offsetMinutes(new Date(guess.getTime() - offset * 60000), zone);
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${isoDay}T${String(hour).padStart(2, "0")}:00:00${sign}${hh}:${mm}`;
}

export interface DayHours {
  day: string;
  ranges: { from: string; to: string }[];
}

/** The free hours the API lists (UTC instants, one per hour) as the next ``days`` local days
 * from ``today`` in ``zone``, each with its runs of consecutive hours ("10:00 to 12:00"). */
export function week(hours: readonly string[], zone: string, today: string, days = 7): DayHours[] {
  const byDay = new Map<string, number[]>();
  for (const iso of hours) {
    const { day: local, hour } = localParts(new Date(iso), zone);
    const list = byDay.get(local) ?? [];
    list.push(hour);
    byDay.set(local, list);
  }
  const result: DayHours[] = [];
  for (let i = 0; i < days; i += 1) {
    const local = addDays(today, i);
    const sorted = [...new Set(byDay.get(local) ?? [])].sort((a, b) => a - b);
    const ranges: { from: string; to: string }[] = [];
    let start: number | undefined;
    let last: number | undefined;
    for (const hour of sorted) {
      if (start === undefined || last === undefined || hour !== last + 1) {
        if (start !== undefined && last !== undefined) ranges.push(range(start, last + 1));
        start = hour;
      }
      last = hour;
    }
    if (start !== undefined && last !== undefined) ranges.push(range(start, last + 1));
    result.push({ day: local, ranges });
  }
  return result;
}

function range(from: number, to: number): { from: string; to: string } {
  return { from: hh(from), to: hh(to) };
}

export function hh(hour: number): string {
  return `${String(hour).padStart(2, "0")}:00`;
}

/** ``isoDay`` plus ``n`` calendar days. */
export function addDays(isoDay: string, n: number): string {
  const date = new Date(`${isoDay}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + n);
  return date.toISOString().slice(0, 10);
}

/** Every time zone this browser knows, for the sign-up form (the API checks the choice). */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.("timeZone") ?? ["Europe/London"];
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "Europe/London";
}
