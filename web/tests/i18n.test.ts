// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { MESSAGES, pick, setLanguage, t } from "../src/i18n";

describe("the app's words", () => {
  it("has every English text in Welsh, none empty, with the same placeholders", () => {
    const english = MESSAGES.en;
    const welsh = MESSAGES.cy;
    expect(Object.keys(welsh).sort()).toEqual(Object.keys(english).sort());
    for (const [key, text] of Object.entries(english)) {
      const other = welsh[key as keyof typeof welsh];
      expect(text.trim(), key).not.toBe("");
      expect(other.trim(), key).not.toBe("");
      const holes = (value: string) => [...value.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(holes(other), key).toEqual(holes(text));
    }
  });

  it("fills placeholders and speaks the chosen language", () => {
    setLanguage("en");
    expect(t("home.title", { name: "Mair" })).toBe("Hello, Mair");
    setLanguage("cy");
    expect(t("home.title", { name: "Mair" })).toBe("Helo, Mair");
    expect(document.documentElement.lang).toBe("cy");
    setLanguage("en");
  });

  it("takes a person's first language the app speaks", () => {
    expect(pick(["fr", "cy-GB", "en"])).toBe("cy");
    expect(pick(["en-GB"])).toBe("en");
    expect(pick(["pl"])).toBeNull();
    expect(pick(undefined)).toBeNull();
  });
});
