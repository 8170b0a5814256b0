// @vitest-environment jsdom
// Screens rendered against a fake of booking's API (the real one is walked end to end in
// tests/e2e/test_web_app.py): what each shows, and what it sends.
import type * as preact from "preact";
import { render } from "preact";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Booking, Me, Offer } from "../src/api/views";

const calls: { method: string; path: string; body: unknown }[] = [];
/** What the fake answers, by method and path: a value, or a function of the query. */
let answers: Record<string, unknown> = {};

async function fakeFetch(input: RequestInfo | URL): Promise<Response> {
  const request = input instanceof Request ? input : new Request(String(input));
  const url = new URL(request.url);
  const path = url.pathname;
  const text = request.method === "GET" ? "" : await request.text();
  calls.push({ method: request.method, path, body: text ? JSON.parse(text) : null });
  const answer = answers[`${request.method} ${path}`];
  const found = typeof answer === "function" ? answer(url.searchParams) : answer;
  return new Response(JSON.stringify(found ?? {}), {
    status: found === undefined ? 404 : 200,
    headers: { "Content-Type": "application/json" },
  });
}

let Offers: typeof import("../src/screens/offers").Offers;
let Visit: typeof import("../src/screens/visits").Visit;
let Visits: typeof import("../src/screens/visits").Visits;

beforeAll(async () => {
  // openapi-fetch takes fetch when the client is made, at import: stub it first.
  vi.stubGlobal("fetch", fakeFetch);
  ({ Offers } = await import("../src/screens/offers"));
  ({ Visit, Visits } = await import("../src/screens/visits"));
});

const roots: HTMLElement[] = [];

/** Render into a container of its own, unmounted after the test. */
function mount(screen: preact.ComponentChild): void {
  const root = document.createElement("div");
  document.body.append(root);
  roots.push(root);
  render(screen, root);
}

function unmountAll(): void {
  for (const root of roots.splice(0)) {
    render(null, root);
    root.remove();
  }
}

afterEach(() => {
  unmountAll();
  calls.length = 0;
  answers = {};
});

const me: Me = {
  person_id: "p-owen",
  display_name: "Owen",
  email: "owen@example.org",
  email_verified: true,
  home: { lat: 51.48, lng: -3.18, address: "1 Stryd", phone: null },
  time_zone: "Europe/London",
  skills: ["shopping"],
  languages: ["en"],
  accessibility_notes: null,
  suspended: false,
};

function offer(id: string, repeats: Offer["repeats"]): Offer {
  return {
    offer_id: id,
    request_id: `r-${id}`,
    skill: "shopping",
    starts_at: "2026-12-08T11:00:00Z",
    hours: 1,
    status: "open",
    expires_at: "2026-12-07T11:00:00Z",
    reasons: [{ code: "nearby", text: "0.4 km away" }],
    neighbour: { display_name: "Mair" },
    repeats,
  };
}

async function until<T>(find: () => T | null | undefined): Promise<T> {
  for (let i = 0; i < 100; i += 1) {
    const found = find();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("not shown in time");
}

function button(text: string): HTMLButtonElement | undefined {
  return [...document.querySelectorAll("button")].find((b) => b.textContent === text);
}

describe("the offers inbox", () => {
  it("offers to take a series on only for an offer that repeats, and says why each came", async () => {
    answers["GET /v1/offers"] = { items: [offer("o1", "week"), offer("o2", null)] };
    mount(<Offers me={me} />);
    const cards = await until(() => {
      const found = document.querySelectorAll(".offer");
      return found.length === 2 ? found : null;
    });
    expect(cards[0]?.textContent).toContain("This is every week.");
    expect(cards[0]?.textContent).toContain("0.4 km away");
    expect(cards[0]?.textContent).toContain("Tuesday 8 December at 11:00");
    expect(cards[0]?.textContent).toContain("Yes, I will go every time");
    expect(cards[1]?.textContent).not.toContain("Yes, I will go every time");
  });

  it("accepts the whole series with scope series and says how many visits were booked", async () => {
    answers["GET /v1/offers"] = { items: [offer("o1", "fortnight")] };
    answers["POST /v1/offers/o1/accept"] = {
      booking_id: "b1",
      series: { booked_request_ids: ["r2", "r3"], not_free_request_ids: [] },
    };
    mount(<Offers me={me} />);
    (await until(() => button("Yes, I will go every time"))).click();
    await until(() => document.querySelector(".done"));
    const accepted = calls.find((call) => call.path === "/v1/offers/o1/accept");
    expect(accepted?.body).toEqual({ scope: "series" });
    expect(document.querySelector(".done")?.textContent).toContain("3 visit(s) booked");
  });
});

function booking(side: Booking["side"], address?: string): Booking {
  return {
    booking_id: "b1",
    request_id: "r1",
    side,
    skill: "shopping",
    starts_at: "2099-12-08T11:00:00Z",
    hours: 1,
    status: "confirmed",
    helper: { person_id: "p-owen", display_name: "Owen" },
    neighbour: { person_id: "p-mair", display_name: "Mair", ...(address ? { address } : {}) },
    checked_in_at: null,
    completed_at: null,
    cancelled_at: null,
    held: false,
    proposed_reschedule: null,
  };
}

describe("a visit", () => {
  it("shows the helper the address only when the API gives it, and lets them check in", async () => {
    answers["GET /v1/bookings/b1"] = booking("helper");
    mount(<Visit me={me} bookingId="b1" />);
    await until(() => button("I have arrived"));
    expect(document.querySelector("#visit-address")).toBeNull();
    expect(document.body.textContent).toContain("The address is shown here shortly before the visit.");

    unmountAll();
    answers["GET /v1/bookings/b1"] = booking("helper", "3 Heol y Coed");
    mount(<Visit me={me} bookingId="b1" />);
    const address = await until(() => document.querySelector("#visit-address"));
    expect(address.textContent).toBe("3 Heol y Coed");
  });

  it("gives the neighbour no check-in, and no 'did not come' before the visit starts", async () => {
    answers["GET /v1/bookings/b1"] = booking("neighbour");
    mount(<Visit me={{ ...me, skills: [] }} bookingId="b1" />);
    await until(() => document.querySelector("#visit-status"));
    expect(button("I have arrived")).toBeUndefined();
    expect(document.body.textContent).not.toContain("The other person did not come");
    expect(document.body.textContent).toContain("Cancel this visit");
  });
});

describe("the visits list", () => {
  it("lists every visit ahead, however many pages they take, and the latest past ones", async () => {
    const ahead = Array.from({ length: 203 }, (_, n) => ({ ...booking("helper"), booking_id: `b${n}` }));
    answers["GET /v1/bookings"] = (query: URLSearchParams) => {
      if (query.get("when") === "past") return { items: [], next_offset: null };
      const offset = Number(query.get("offset") ?? 0);
      const limit = Number(query.get("limit"));
      const end = offset + limit;
      return { items: ahead.slice(offset, end), next_offset: end < ahead.length ? end : null };
    };
    mount(<Visits me={me} />);
    await until(() => document.querySelectorAll("#upcoming li").length === ahead.length || undefined);
    const shown = [...document.querySelectorAll("#upcoming li")].map((li) => li.getAttribute("data-booking-id"));
    expect(shown).toEqual(ahead.map((b) => b.booking_id));
    expect(document.querySelector("#past")?.textContent).toBe("No visits here.");
  });
});
