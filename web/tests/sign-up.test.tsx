// @vitest-environment jsdom
// The sign-up and sign-in screens take an email address or a mobile phone number, rendered
// against a fake of booking's API: what each sends, and what it refuses before sending.
import type * as preact from "preact";
import { render } from "preact";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { accountName } from "../src/contact";

const calls: { method: string; path: string; body: unknown }[] = [];

async function fakeFetch(input: RequestInfo | URL): Promise<Response> {
  const request = input instanceof Request ? input : new Request(String(input));
  const path = new URL(request.url).pathname;
  const text = request.method === "GET" ? "" : await request.text();
  calls.push({ method: request.method, path, body: text ? JSON.parse(text) : null });
  return new Response(JSON.stringify({ person_id: "p-new", token: "t-new" }), {
    status: 201,
    headers: { "Content-Type": "application/json" },
  });
}

let SignUp: typeof import("../src/screens/account").SignUp;
let SignIn: typeof import("../src/screens/account").SignIn;
let VerifyPrompt: typeof import("../src/screens/links").VerifyPrompt;

beforeAll(async () => {
  // openapi-fetch takes fetch when the client is made, at import: stub it first.
  vi.stubGlobal("fetch", fakeFetch);
  ({ SignUp, SignIn } = await import("../src/screens/account"));
  ({ VerifyPrompt } = await import("../src/screens/links"));
});

const roots: HTMLElement[] = [];

function mount(screen: preact.ComponentChild): void {
  const root = document.createElement("div");
  document.body.append(root);
  roots.push(root);
  render(screen, root);
}

afterEach(() => {
  for (const root of roots.splice(0)) {
    render(null, root);
    root.remove();
  }
  calls.length = 0;
  localStorage.clear();
});

/** Type into a field as a person would (Preact listens to input events). */
function type(id: string, value: string): void {
  const field = document.getElementById(id) as HTMLInputElement;
  field.value = value;
  field.dispatchEvent(new Event("input", { bubbles: true }));
}

/** Submit the form once Preact has rendered what was typed (its handler sees that state). */
async function submit(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  document.querySelector("form")?.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
}

async function until<T>(find: () => T | null | undefined): Promise<T> {
  for (let i = 0; i < 100; i += 1) {
    const found = find();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("not shown in time");
}

function fillSignUp(account: string): void {
  type("name", "Gwen");
  type("account", account);
  type("password", "a long enough password");
  type("address", "3 Heol y Plwyf");
  type("lat", "51.48");
  type("lng", "-3.18");
}

describe("what is typed to name an account", () => {
  it("is an email when it has an @, else a mobile number without the spaces people type", () => {
    expect(accountName(" gwen@example.org ")).toEqual({ email: "gwen@example.org" });
    expect(accountName("+44 7700 900-123")).toEqual({ phone: "+447700900123" });
    expect(accountName("(+44) 7700.900123")).toEqual({ phone: "+447700900123" });
  });

  it("is neither without a + and a country code", () => {
    expect(accountName("07700 900123")).toBeNull();
    expect(accountName("+0 7700 900123")).toBeNull();
    expect(accountName("")).toBeNull();
  });
});

describe("making an account", () => {
  it("offers one field for an email address or a mobile phone number, with a hint", () => {
    mount(<SignUp />);
    const label = document.querySelector('label[for="account"]');
    expect(label?.textContent).toBe("Your email address or mobile phone number");
    const field = document.getElementById("account") as HTMLInputElement;
    expect(field.required).toBe(true);
    expect(field.getAttribute("aria-describedby")).toBe("account-hint");
    expect(document.getElementById("account-hint")?.textContent).toContain("+44 7700 900123");
  });

  it("signs up with a mobile number only, sent in international form", async () => {
    mount(<SignUp />);
    fillSignUp("+44 7700 900123");
    await submit();
    const sent = await until(() => calls.find((call) => call.path === "/v1/people"));
    expect(sent.body).toMatchObject({ display_name: "Gwen", phone: "+447700900123" });
    expect(sent.body).not.toHaveProperty("email");
  });

  it("signs up with an email address", async () => {
    mount(<SignUp />);
    fillSignUp("gwen@example.org");
    await submit();
    const sent = await until(() => calls.find((call) => call.path === "/v1/people"));
    expect(sent.body).toMatchObject({ email: "gwen@example.org" });
    expect(sent.body).not.toHaveProperty("phone");
  });

  it("says what is wrong with a number without its country code, and sends nothing", async () => {
    mount(<SignUp />);
    fillSignUp("07700 900123");
    await submit();
    const problem = await until(() => document.querySelector('[role="alert"], .problem'));
    expect(problem.textContent).toContain("a mobile number with + and the country code");
    expect(calls).toEqual([]);
  });
});

describe("signing in", () => {
  it("signs in with a mobile number and the password", async () => {
    mount(<SignIn />);
    expect(document.querySelector('label[for="account"]')?.textContent).toBe(
      "Your email address or mobile phone number",
    );
    type("account", "+44 7700 900123");
    type("password", "a long enough password");
    await submit();
    const sent = await until(() => calls.find((call) => call.path === "/v1/sessions"));
    expect(sent.body).toEqual({ phone: "+447700900123", password: "a long enough password" });
  });
});

describe("an account made with a phone only", () => {
  it("is not asked to check an email address it does not have", () => {
    const me = {
      person_id: "p-gwen",
      display_name: "Gwen",
      email: null,
      phone: "+447700900123",
      email_verified: false,
      home: { lat: 51.48, lng: -3.18, address: "3 Heol y Plwyf", phone: "+447700900123" },
      time_zone: "Europe/London",
      skills: [],
      languages: ["cy"],
      accessibility_notes: null,
      suspended: false,
    };
    mount(<VerifyPrompt me={me} />);
    expect(document.body.textContent).toBe("");
    mount(<VerifyPrompt me={{ ...me, email: "gwen@example.org" }} />);
    expect(document.body.textContent).toContain("gwen@example.org");
  });
});
