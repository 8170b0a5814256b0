// @vitest-environment jsdom
// The account's own screens against a fake of booking's API (the real one is walked end to end
// in tests/e2e/test_web_app.py): the token read from a link, a new password typed twice, the
// emergency contact as typed, and what each screen sends.
import type * as preact from "preact";
import { render } from "preact";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Me } from "../src/api/views";
import { parse } from "../src/router";
import { session } from "../src/session";

const calls: { method: string; path: string; body: unknown }[] = [];
let answers: Record<string, { status: number; body: unknown }> = {};

async function fakeFetch(input: RequestInfo | URL): Promise<Response> {
  const request = input instanceof Request ? input : new Request(String(input));
  const path = new URL(request.url).pathname;
  const text = request.method === "GET" ? "" : await request.text();
  calls.push({ method: request.method, path, body: text ? JSON.parse(text) : null });
  const found = answers[`${request.method} ${path}`] ?? { status: 404, body: {} };
  return new Response(found.status === 204 ? null : JSON.stringify(found.body), {
    status: found.status,
    headers: { "Content-Type": "application/json" },
  });
}

let links: typeof import("../src/screens/links");
let emergency: typeof import("../src/screens/emergency");

beforeAll(async () => {
  // openapi-fetch takes fetch when the client is made, at import: stub it first.
  vi.stubGlobal("fetch", fakeFetch);
  links = await import("../src/screens/links");
  emergency = await import("../src/screens/emergency");
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
  answers = {};
  session.end();
});

async function until<T>(find: () => T | null | undefined): Promise<T> {
  for (let i = 0; i < 100; i += 1) {
    const found = find();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("not shown in time");
}

function button(text: string): HTMLButtonElement {
  const found = [...document.querySelectorAll("button")].find((b) => b.textContent === text);
  if (!found) throw new Error(`no button ${text}`);
  return found;
}

/** Type into a field, as a person would, and let the screen draw what it now holds. */
async function type(id: string, value: string): Promise<void> {
  const input = document.getElementById(id) as HTMLInputElement;
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  await new Promise((resolve) => setTimeout(resolve, 0));
}

const TOKEN = "Abc_def-0123456789xyzXYZ";

describe("a link's token", () => {
  it("is read from the address after the #, and a missing or cut one is none", () => {
    expect(links.linkToken(parse(`#/reset?token=${TOKEN}`).params)).toBe(TOKEN);
    expect(links.linkToken(parse(`#/verify?token=${TOKEN}&utm=x`).params)).toBe(TOKEN);
    expect(links.linkToken(parse("#/reset").params)).toBeNull();
    expect(links.linkToken(parse("#/reset?token=short").params)).toBeNull();
    expect(links.linkToken(parse(`#/reset?token=${TOKEN}<script>`).params)).toBeNull();
  });
});

describe("a new password typed twice", () => {
  it("names the field at fault and says why", () => {
    expect(links.newPasswordErrors("a long password", "a long password")).toEqual([]);
    expect(links.newPasswordErrors("short", "short")).toEqual([
      { field: "New password", reason: "it needs at least 8 letters, numbers or signs" },
    ]);
    expect(links.newPasswordErrors("a long password", "a long pasword")).toEqual([
      { field: "Type the new password again", reason: "it is not the same as the new password" },
    ]);
    expect(links.newPasswordErrors("x".repeat(257), "x".repeat(257))[0]?.reason).toContain("at most 256");
  });

  it("is not sent while it is wrong, and the alert names the field", async () => {
    mount(<links.Reset params={parse(`#/reset?token=${TOKEN}`).params} />);
    await type("new-password", "a long password");
    await type("new-password-again", "another password");
    button("Save my new password").click();
    const alert = await until(() => document.querySelector('[role="alert"]'));
    expect(alert.textContent).toContain("Type the new password again: it is not the same as the new password");
    expect(document.getElementById("new-password-again")?.getAttribute("aria-invalid")).toBe("true");
    expect(calls).toEqual([]);
  });

  it("is sent with the link's token, then this device is signed out and sent to sign in", async () => {
    session.start("old-token", "p-1");
    answers["POST /v1/auth/password-reset/confirm"] = { status: 200, body: { status: "password changed" } };
    mount(<links.Reset params={parse(`#/reset?token=${TOKEN}`).params} />);
    await type("new-password", "a long password");
    await type("new-password-again", "a long password");
    button("Save my new password").click();
    await until(() => document.querySelector(".done"));
    expect(calls).toEqual([
      {
        method: "POST",
        path: "/v1/auth/password-reset/confirm",
        body: { token: TOKEN, password: "a long password" },
      },
    ]);
    expect(session.token()).toBeNull();
    expect(document.querySelector('a[href="#/sign-in"]')?.textContent).toBe("Sign in");
  });

  it("says a used or old link does not work, and offers a new one", async () => {
    answers["POST /v1/auth/password-reset/confirm"] = {
      status: 422,
      body: { title: "Validation failed", detail: "token: used", errors: [{ field: "token", reason: "used" }] },
    };
    mount(<links.Reset params={parse(`#/reset?token=${TOKEN}`).params} />);
    await type("new-password", "a long password");
    await type("new-password-again", "a long password");
    button("Save my new password").click();
    const alert = await until(() => document.querySelector('p[role="alert"]'));
    expect(alert.textContent).toContain("This link does not work any more");
    expect(document.querySelector('a[href="#/forgot"]')).not.toBeNull();
  });
});

describe("a forgotten password", () => {
  it("is asked for by email address, or by mobile number without the spaces people type", () => {
    expect(links.accountOf(" mair@example.org ")).toEqual({ email: "mair@example.org" });
    expect(links.accountOf("+44 7700-900 (123)")).toEqual({ phone: "+447700900123" });
    expect(links.accountOf("+44 7700 900123")).toEqual({ phone: "+447700900123" });
    expect(links.accountOf("   ")).toBeNull();
  });


  it("asks for the address and answers the same whether or not it has an account", async () => {
    answers["POST /v1/auth/password-reset"] = { status: 202, body: { status: "sent" } };
    mount(<links.Forgot />);
    button("Send me a link").click();
    expect((await until(() => document.querySelector('[role="alert"]'))).textContent).toContain(
      "Your email address or mobile phone number: Please type your email address or your mobile phone number.",
    );
    await type("email", " mair@example.org ");
    button("Send me a link").click();
    const done = await until(() => document.querySelector(".done"));
    expect(done.textContent).toContain("If Kith has an account with this email address or phone number");
    expect(calls).toEqual([{ method: "POST", path: "/v1/auth/password-reset", body: { email: "mair@example.org" } }]);
  });
});

describe("checking an email address", () => {
  it("sends the link's token at once and says it is checked", async () => {
    answers["POST /v1/auth/email-verification/confirm"] = { status: 200, body: { email_verified: true } };
    const verified = vi.fn();
    mount(<links.Verify params={parse(`#/verify?token=${TOKEN}`).params} onVerified={verified} />);
    const done = await until(() => document.querySelector(".done"));
    expect(done.textContent).toContain("Your email address is checked");
    expect(calls[0]?.body).toEqual({ token: TOKEN });
    expect(verified).toHaveBeenCalledOnce();
  });

  it("sends nothing for a link cut short", async () => {
    mount(<links.Verify params={parse("#/verify?token=abc").params} onVerified={null} />);
    expect(document.querySelector('p[role="alert"]')?.textContent).toContain("This link does not work any more");
    expect(calls).toEqual([]);
  });

  it("is asked for again from the settings screen while it is not checked", async () => {
    const me = { email: "mair@example.org", email_verified: false } as Me;
    answers["POST /v1/me/email-verification"] = { status: 202, body: { status: "sent" } };
    mount(<links.VerifyPrompt me={me} />);
    expect(document.body.textContent).toContain("we sent a link to mair@example.org");
    button("Send the link again").click();
    await until(() => document.querySelector(".done"));
    expect(calls.map((call) => call.path)).toEqual(["/v1/me/email-verification"]);
    render(null, roots[0]!);
    mount(<links.VerifyPrompt me={{ ...me, email_verified: true }} />);
    expect(document.body.textContent).toContain("Your email address mair@example.org is checked.");
    expect(document.body.textContent).not.toContain("Send the link again");
  });
});

describe("the emergency contact", () => {
  it("needs a name and a way to reach them, and sends an empty way as none", () => {
    expect(emergency.contactErrors({ name: " ", email: "", phone: "" }).map((e) => e.field)).toEqual([
      "Their name",
      "Their email address",
    ]);
    expect(emergency.contactErrors({ name: "Siân", email: "", phone: "029 2000 0000" })).toEqual([]);
    expect(emergency.contactErrors({ name: "Siân", email: "sian at home", phone: "" })).toEqual([
      { field: "Their email address", reason: "please check it: an email address looks like name@example.org" },
    ]);
    const refused = { status: 422, title: "", detail: "", errors: [{ field: "phone", reason: "too short" }] };
    expect(emergency.named(refused).errors).toEqual([{ field: "Their phone number", reason: "too short" }]);
    expect(emergency.contactBody({ name: " Siân ", email: " ", phone: "029 2000 0000" })).toEqual({
      name: "Siân",
      email: null,
      phone: "029 2000 0000",
    });
  });

  it("is named, shown, and removed once the person is sure", async () => {
    answers["GET /v1/me/emergency-contact"] = { status: 200, body: null };
    answers["PUT /v1/me/emergency-contact"] = {
      status: 200,
      body: { name: "Siân", email: "sian@example.org", phone: null },
    };
    answers["DELETE /v1/me/emergency-contact"] = { status: 204, body: null };
    mount(<emergency.Emergency />);
    (await until(() => [...document.querySelectorAll("button")].find((b) => b.textContent === "Name someone"))).click();
    await until(() => document.getElementById("contact-name"));
    button("Save").click();
    expect((await until(() => document.querySelector('[role="alert"]'))).textContent).toContain("Their name: please type their name");
    await type("contact-name", "Siân");
    await type("contact-email", "sian@example.org");
    button("Save").click();
    await until(() => document.getElementById("emergency-contact")?.textContent?.includes("sian@example.org"));
    expect(calls.find((call) => call.method === "PUT")?.body).toEqual({ name: "Siân", email: "sian@example.org", phone: null });
    button("Remove this person").click();
    (await until(() => [...document.querySelectorAll("button")].find((b) => b.textContent === "Yes, remove them"))).click();
    await until(() => document.body.textContent?.includes("You have not named anyone yet."));
    expect(calls.map((call) => call.method)).toEqual(["GET", "PUT", "DELETE"]);
  });
});
