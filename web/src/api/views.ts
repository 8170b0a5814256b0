// What booking's answers hold. The OpenAPI document types every path, query and body the app
// sends; booking's answers are documented as plain objects, so their shape is written here,
// from booking's service layer (offer_view, booking_view, request_view, me).
import type { components } from "./schema";

export type Skill = components["schemas"]["Skill"];
export type Weekday = components["schemas"]["Weekday"];
export type SeeAgain = components["schemas"]["SeeAgain"];
export type AsAgreed = components["schemas"]["AsAgreed"];
export type NotificationPreferences = components["schemas"]["NotificationPreferences"];
export type NoticeKind = components["schemas"]["NoticeKind"];
export type NoticeChannel = components["schemas"]["NoticeChannel"];
export type AvailabilityBody = components["schemas"]["AvailabilityBody"];
export type EmergencyContact = components["schemas"]["EmergencyContact"];

export interface Page<T> {
  items: T[];
  next_offset?: number | null;
  next_cursor?: string | null;
}

export interface Session {
  person_id: string;
  token: string;
}

export interface Me {
  person_id: string;
  display_name: string;
  /** Null for an account made with a mobile phone number only. */
  email: string | null;
  /** The mobile number the account signs in with (E.164), if it has one. */
  phone?: string | null;
  /** Whether the person opened the link Kith emailed to check the address. */
  email_verified: boolean;
  home: { lat: number; lng: number; address: string; phone: string | null };
  time_zone: string;
  skills: Skill[];
  languages: string[];
  accessibility_notes: string | null;
  suspended: boolean;
}

export interface Reason {
  code: string;
  text: string;
}

export interface Offer {
  offer_id: string;
  request_id: string;
  skill: Skill;
  starts_at: string;
  hours: number;
  status: "open" | "accepted" | "declined" | "expired" | "withdrawn";
  expires_at: string;
  reasons: Reason[];
  neighbour: { display_name: string | null };
  repeats: "week" | "fortnight" | null;
}

export interface Accepted {
  booking_id: string;
  series: { booked_request_ids: string[]; not_free_request_ids: string[] } | null;
}

export interface Party {
  person_id: string;
  display_name: string | null;
  address?: string;
  phone?: string | null;
  accessibility_notes?: string | null;
}

export interface Booking {
  booking_id: string;
  request_id: string;
  side: "helper" | "neighbour";
  skill: Skill;
  starts_at: string;
  hours: number;
  status: "confirmed" | "checked_in" | "completed" | "cancelled" | "no_show";
  helper: Party;
  neighbour: Party;
  checked_in_at: string | null;
  completed_at: string | null;
  cancelled_at: string | null;
  held: boolean;
  proposed_reschedule: { starts_at: string; hours: number; proposed_by: string } | null;
  notes?: string | null;
}

export interface HelpRequest {
  request_id: string;
  series_id: string | null;
  occurrence: number | null;
  skill: Skill;
  starts_at: string;
  hours: number;
  status: "open" | "booked" | "unmatched" | "cancelled" | "held";
  notes: string | null;
}

export interface Relationship {
  person_id: string;
  display_name: string | null;
  my_side: "helper" | "neighbour";
  stage: "introduced" | "first_visit" | "regular" | "paused" | "ended";
  visits: number;
}

export interface Availability {
  rules: { weekday: Weekday; start: string; end: string }[];
  exceptions: (
    | { kind: "away"; first_day: string; last_day: string }
    | { kind: "extra"; day: string; start: string; end: string }
  )[];
  horizon_start: string | null;
  hours: string[];
}

export const SKILLS: readonly Skill[] = [
  "shopping",
  "lift",
  "company",
  "repairs",
  "forms_and_phones",
  "gardening",
  "dog_walking",
  "personal_care",
];

export const WEEKDAYS: readonly Weekday[] = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
];
