import { describe, expect, it } from "vitest";
import { parse, segments } from "../src/router";

describe("screens by address", () => {
  it("reads the path and its question after the #", () => {
    const route = parse("#/ask?helper=h1&name=Owen%20Jones");
    expect(route.path).toBe("/ask");
    expect(route.params.get("helper")).toBe("h1");
    expect(route.params.get("name")).toBe("Owen Jones");
    expect(parse("").path).toBe("/");
    expect(segments("/visit/b1/cancel")).toEqual(["visit", "b1", "cancel"]);
  });
});
