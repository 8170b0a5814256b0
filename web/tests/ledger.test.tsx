// @vitest-environment jsdom
// The ledger screens' logic: amounts in words a screen reader says well, in English and
// Welsh; what a person may type; and what the screens ask of the ledger (through booking's
// /ledger/ path) and send to it.
import type * as preact from "preact";
import { render } from "preact";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Me } from "../src/api/views";
import { direction, hoursText, lineAmount, moneyText, moneyWords, monthText, parseMoney } from "../src/amounts";
import { setLanguage } from "../src/i18n";

const calls: { method: string; url: URL; body: unknown }[] = [];
let answers: Record<string, unknown> = {};

async function fakeFetch(input: RequestInfo | URL): Promise<Response> {
  const request = input instanceof Request ? input : new Request(String(input));
  const url = new URL(request.url);
  const text = request.method === "GET" ? "" : await request.text();
  calls.push({ method: request.method, url, body: text ? JSON.parse(text) : null });
  if (url.pathname.endsWith("/receipt")) {
    return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), { headers: { "Content-Type": "image/png" } });
  }
  const found = answers[`${request.method} ${url.pathname}`];
  return new Response(JSON.stringify(found ?? { title: "Not found", detail: "none" }), {
    status: found === undefined ? 404 : 200,
    headers: { "Content-Type": "application/json" },
  });
}

let screens: typeof import("../src/screens/ledger");
let expenses: typeof import("../src/screens/expenses");

beforeAll(async () => {
  vi.stubGlobal("fetch", fakeFetch);
  screens = await import("../src/screens/ledger");
  expenses = await import("../src/screens/expenses");
});

const roots: HTMLElement[] = [];
function mount(screen: preact.ComponentChild): HTMLElement {
  const root = document.createElement("div");
  document.body.append(root);
  roots.push(root);
  render(screen, root);
  return root;
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
  setLanguage("en");
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
}

/** Let preact render what the last event changed. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

const me = {
  person_id: "p-owen",
  display_name: "Owen",
  email: "owen@example.org",
  email_verified: true,
  home: { lat: 51.48, lng: -3.18, address: "1 Stryd", phone: null },
  neighbourhood: "87195da49ffffff",
  time_zone: "Europe/London",
  skills: ["shopping"],
  languages: ["en"],
  accessibility_notes: null,
  suspended: false,
} as Me;

describe("amounts in words", () => {
  it("says hours and minutes rather than decimals", () => {
    expect(hoursText(1)).toBe("1 hour");
    expect(hoursText(2)).toBe("2 hours");
    expect(hoursText(1.5)).toBe("1 hour 30 minutes");
    expect(hoursText(0.25)).toBe("15 minutes");
    expect(hoursText(0)).toBe("0 hours");
    expect(hoursText(-3)).toBe("3 hours");
  });

  it("shows money as people read it and says it in words", () => {
    expect(moneyText(1250, "GBP", "en")).toBe("£12.50");
    expect(moneyText(-1250, "GBP", "en")).toBe("£12.50");
    expect(moneyWords(1250, "GBP")).toBe("12 pounds and 50 pence");
    expect(moneyWords(100, "GBP")).toBe("1 pound");
    expect(moneyWords(1, "GBP")).toBe("1 penny");
    expect(moneyWords(0, "GBP")).toBe("0 pounds");
    expect(moneyWords(999, "EUR")).toBe("9.99 EUR");
  });

  it("says them in Welsh too", () => {
    setLanguage("cy");
    expect(hoursText(2.5)).toBe("2 awr 30 munud");
    expect(moneyWords(1250, "GBP")).toBe("12 punt a 50 ceiniog");
    expect(moneyWords(100, "GBP")).toBe("1 bunt");
    expect(direction(60)).toBe("I chi");
  });

  it("reads a statement line's minutes as hours and its money in words", () => {
    expect(lineAmount("hour", 120)).toEqual({ shown: "2 hours", said: "2 hours" });
    expect(lineAmount("GBP", -3000)).toEqual({ shown: "£30.00", said: "30 pounds" });
    expect(direction(-1)).toBe("From you");
  });

  it("names a month", () => {
    expect(monthText("2026-03", "en")).toBe("March 2026");
    expect(monthText("nonsense", "en")).toBe("nonsense");
  });

  it("takes an amount of money as people type it", () => {
    expect(parseMoney("12.50")).toBe(1250);
    expect(parseMoney("£12.5")).toBe(1250);
    expect(parseMoney(" 3 ")).toBe(300);
    expect(parseMoney("1,200")).toBe(120000);
    for (const wrong of ["", "0", "-2", "12.345", "abc", "100000"]) expect(parseMoney(wrong)).toBeNull();
  });
});

describe("what a person may give and record", () => {
  it("gives whole hours from 1 to 100", () => {
    expect(screens.giftHours("3")).toBe(3);
    for (const wrong of ["0", "101", "1.5", "", "two"]) expect(screens.giftHours(wrong)).toBeNull();
  });

  it("says time credits in words, never by a sign", () => {
    expect(screens.creditsText(2)).toBe("You can receive 2 hours of help");
    expect(screens.creditsText(-1)).toBe("You have received 1 hour more than you have given");
    expect(screens.creditsText(0)).toBe("None yet");
  });

  it("names each field wrong in an expense", () => {
    const errors = expenses.expenseErrors({
      bookingId: "",
      amount: "lots",
      whatFor: " ",
      receipt: { type: "application/zip", size: 10 },
    });
    expect(errors.map((error) => error.field)).toEqual([
      "Which visit was it for?",
      "How much did you spend, in pounds?",
      "What was it for?",
      "A photo of the receipt",
    ]);
    expect(
      expenses.expenseErrors({
        bookingId: "b-1",
        amount: "4.20",
        whatFor: "milk",
        receipt: { type: "image/jpeg", size: expenses.RECEIPT_MAX_BYTES },
      }),
    ).toEqual([]);
    expect(
      expenses.expenseErrors({ bookingId: "b-1", amount: "4", whatFor: "milk", receipt: { type: "image/png", size: 3e6 } }),
    ).toHaveLength(1);
  });
});

describe("a lift's miles", () => {
  it("takes miles to a tenth, from 0.1 to 500", () => {
    expect(expenses.parseMiles("7.5")).toBe(7.5);
    expect(expenses.parseMiles(" 12 ")).toBe(12);
    for (const wrong of ["0", "501", "7.25", "", "-3", "far"]) expect(expenses.parseMiles(wrong)).toBeNull();
  });

  it("names the fields wrong", () => {
    expect(expenses.mileageErrors("", "x").map((error) => error.field)).toEqual([
      "Which visit was it for?",
      "How many miles did you drive?",
    ]);
    expect(expenses.mileageErrors("b-1", "7.5")).toEqual([]);
  });
});

describe("the screens", () => {
  it("shows the balance from the ledger through booking's /ledger/ path", async () => {
    answers["GET /ledger/v1/me/ledger"] = {
      owner: "person:p-owen",
      hours: { given: 3, received: 0, gifted_to_pots: 1, credits: 2 },
      money: [{ currency: "GBP", balance: 3600, earned: 3600, charged: 0, expenses: 0, paid: 0, paid_out: 0 }],
    };
    const root = mount(<screens.Ledger me={me} />);
    await until(() => root.textContent?.includes("You can receive 2 hours of help") ?? false);
    expect(root.textContent).toContain("3 hours");
    expect(root.querySelector(".visually-hidden")?.textContent).toBe("36 pounds");
    expect(root.querySelector("dd [aria-hidden='true']")?.textContent).toBe("£36.00");
    expect(calls[0]?.url.pathname).toBe("/ledger/v1/me/ledger");
    expect(root.querySelector("a[href='#/ledger/earnings']")).not.toBeNull();
  });

  it("gives hours into the neighbourhood's pot and says what the pot holds", async () => {
    answers["GET /ledger/v1/neighbourhoods/87195da49ffffff/community"] = {
      community_id: "millbrook",
      modes: ["gifted", "time_credits"],
      currency: "GBP",
      pot_rule: "approval",
      monthly_allowance_hours: 0,
      mileage_rate: 0,
      pot: { community_id: "millbrook", hours: 4, given: 4, drawn: 0 },
    };
    answers["GET /ledger/v1/me/ledger"] = {
      owner: "person:p-owen",
      hours: { given: 3, received: 0, gifted_to_pots: 0, credits: 3 },
      money: [],
    };
    answers["POST /ledger/v1/me/ledger/gifts"] = {
      posting_id: "g-1",
      pot: { community_id: "millbrook", hours: 6, given: 6, drawn: 0 },
    };
    const root = mount(<screens.Give me={me} />);
    await until(() => root.querySelector("form") !== null);
    const input = root.querySelector<HTMLInputElement>("#give-hours")!;
    input.value = "200";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await settle();
    root.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    await until(() => root.querySelector("[role='alert']") !== null);
    expect(root.querySelector("[role='alert']")?.textContent).toContain("How many hours would you like to give?");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(calls.some((call) => call.method === "POST")).toBe(false);

    input.value = "2";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await settle();
    root.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    await until(() => root.querySelector("[role='status']")?.textContent?.includes("6 hours") ?? false);
    const post = calls.find((call) => call.method === "POST");
    expect(post?.url.pathname).toBe("/ledger/v1/me/ledger/gifts");
    expect(post?.body).toEqual({ community_id: "millbrook", hours: 2 });
  });

  it("lets the neighbour confirm what their helper spent", async () => {
    answers["GET /ledger/v1/me/ledger/expenses"] = {
      items: [
        {
          expense_id: "e-1",
          kind: "expense",
          booking_id: "b-1",
          helper_id: "p-helper",
          neighbour_id: "p-owen",
          currency: "GBP",
          amount: 420,
          what_for: "milk and bread",
          has_receipt: true,
          status: "recorded",
          miles: null,
          recorded_at: "2026-12-01T10:00:00Z",
        },
      ],
    };
    answers["POST /ledger/v1/me/ledger/expenses/e-1"] = {
      expense_id: "e-1",
      kind: "expense",
      booking_id: "b-1",
      currency: "GBP",
      amount: 420,
      what_for: "milk and bread",
      has_receipt: true,
      status: "confirmed",
    };
    const root = mount(<expenses.Expenses me={{ ...me, skills: [] }} />);
    await until(() => root.textContent?.includes("milk and bread") ?? false);
    expect(root.textContent).toContain("Spent for you");
    expect(root.querySelector(".visually-hidden")?.textContent).toBe("4 pounds and 20 pence");
    const yes = [...root.querySelectorAll("button")].find((b) => b.textContent === "Yes, it is right")!;
    expect(yes.getAttribute("aria-describedby")).toBe("expense-e-1");
    // The receipt photo is fetched only when asked for, and shown from a data: address.
    const see = [...root.querySelectorAll("button")].find((b) => b.textContent === "See the receipt photo")!;
    see.click();
    await until(() => root.querySelector("img.receipt") !== null);
    expect(root.querySelector("img.receipt")?.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
    expect(root.querySelector("img.receipt")?.getAttribute("alt")).toBe("The receipt photo");
    expect(calls.some((call) => call.url.pathname === "/ledger/v1/me/ledger/expenses/e-1/receipt")).toBe(true);
    yes.click();
    await until(() => root.textContent?.includes("It is confirmed") ?? false);
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({ decision: "confirm" });
  });

  it("records a lift's miles when the helper chooses to", async () => {
    answers["GET /v1/bookings"] = {
      items: [
        {
          booking_id: "b-lift",
          request_id: "r-1",
          side: "helper",
          skill: "lift",
          starts_at: "2026-12-01T10:00:00Z",
          hours: 1,
          status: "completed",
        },
      ],
    };
    answers["POST /ledger/v1/me/ledger/mileage"] = {
      expense_id: "e-2",
      kind: "mileage",
      booking_id: "b-lift",
      currency: "GBP",
      amount: 338,
      what_for: "7.5 miles",
      has_receipt: false,
      status: "recorded",
      miles: 7.5,
    };
    const root = mount(<expenses.RecordExpense me={me} />);
    await until(() => root.querySelector("#expense-kind-miles") !== null);
    root.querySelector<HTMLInputElement>("#expense-kind-miles")!.click();
    await until(() => root.querySelector("#expense-miles") !== null);
    expect(root.querySelector("#expense-amount")).toBeNull();
    const miles = root.querySelector<HTMLInputElement>("#expense-miles")!;
    miles.value = "7.5";
    miles.dispatchEvent(new Event("input", { bubbles: true }));
    await settle();
    root.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    await until(() => root.querySelector("[role='status']")?.textContent?.includes("7.5 miles, £3.38") ?? false);
    const post = calls.find((call) => call.method === "POST");
    expect(post?.url.pathname).toBe("/ledger/v1/me/ledger/mileage");
    expect(post?.body).toEqual({ booking_id: "b-lift", miles: 7.5 });
  });

  it("pages back through the statement, saying which way each amount went", async () => {
    const line = (id: number, amount: number, unit = "hour") => ({
      entry_id: id,
      posting_id: `p-${id}`,
      kind: "visit",
      mode: unit === "hour" ? "time_credits" : "paid",
      account: unit === "hour" ? "time" : "money",
      unit,
      amount,
      occurred_at: "2026-12-01T10:00:00Z",
      booking_id: `b-${id}`,
      memo: "1 h of shopping",
      corrects: null,
    });
    answers["GET /ledger/v1/me/ledger/statement"] = { items: [line(9, 60), line(8, -1500, "GBP")], next_before: 8 };
    const root = mount(<screens.LedgerStatement me={me} />);
    await until(() => root.querySelectorAll(".card").length === 2);
    expect(root.querySelectorAll(".card")[0]?.textContent).toContain("To you: 1 hour");
    expect(root.querySelectorAll(".card")[1]?.textContent).toContain("From you:");
    expect(root.querySelectorAll(".card")[1]?.querySelector(".visually-hidden")?.textContent).toBe("15 pounds");
    answers["GET /ledger/v1/me/ledger/statement"] = { items: [line(3, 120)], next_before: null };
    [...root.querySelectorAll("button")].find((b) => b.textContent === "Show earlier ones")!.click();
    await until(() => root.querySelectorAll(".card").length === 3);
    expect(calls.at(-1)?.url.searchParams.get("before")).toBe("8");
    await settle();
    expect([...root.querySelectorAll("button")].some((b) => b.textContent === "Show earlier ones")).toBe(false);
  });

  it("says a pot's rule and that a neighbourhood with no pot takes no gifts", async () => {
    const community = {
      community_id: "millbrook",
      modes: ["gifted"],
      currency: "GBP",
      pot_rule: "allowance",
      monthly_allowance_hours: 2,
      mileage_rate: 0,
      pot: { community_id: "millbrook", hours: 1.5, given: 3, drawn: 1.5 },
    };
    answers["GET /ledger/v1/neighbourhoods/87195da49ffffff/community"] = community;
    const root = mount(<screens.PotScreen me={me} />);
    await until(() => root.textContent?.includes("1 hour 30 minutes") ?? false);
    expect(root.textContent).toContain("Each person may have up to 2 hours a month from the pot.");
    unmountAll();
    answers["GET /ledger/v1/neighbourhoods/87195da49ffffff/community"] = { ...community, modes: ["paid"] };
    const other = mount(<screens.Give me={me} />);
    await until(() => other.textContent?.includes("does not take gifts of hours") ?? false);
    expect(other.querySelector("form")).toBeNull();
  });
});

