// The app's side of live notices: each notice bumps a counter for the list it concerns, and a
// screen showing that list reads it again when its counter moves.
import { useEffect, useState } from "preact/hooks";
import type { Notice } from "./api/events";

export type Topic = "offers" | "visits" | "requests";

const counts: Record<Topic, number> = { offers: 0, visits: 0, requests: 0 };
const listeners = new Set<() => void>();

/** Which lists a notice says to read again. */
export function topicsOf(notice: Notice): Topic[] {
  switch (notice.type) {
    case "offer.received":
      return ["offers"];
    case "request.offered":
    case "request.reopened":
      return ["requests"];
    case "booking.cancelled":
    case "booking.kept":
    case "booking.completed":
    case "booking.no_show":
      return ["visits", "requests"];
    default:
      // A notice this version of the app does not know: every list may have changed.
      return ["offers", "visits", "requests"];
  }
}

export function receive(notice: Notice): void {
  for (const topic of topicsOf(notice)) counts[topic] += 1;
  listeners.forEach((listener) => listener());
}

/** Every list is read again (after reconnecting, notices sent meanwhile were missed). */
export function refreshAll(): void {
  for (const topic of Object.keys(counts) as Topic[]) counts[topic] += 1;
  listeners.forEach((listener) => listener());
}

export function useTopic(topic: Topic): number {
  const [count, setCount] = useState(counts[topic]);
  useEffect(() => {
    const listener = () => setCount(counts[topic]);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, [topic]);
  return count;
}
