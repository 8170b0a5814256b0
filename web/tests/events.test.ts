import { describe, expect, it } from "vitest";
import { EventParser } from "../src/api/events";
import { topicsOf } from "../src/live";

describe("live notices", () => {
  it("reads server-sent events split anywhere across chunks", () => {
    const parser = new EventParser();
    expect(parser.push('event: offer.received\ndata: {"offer_id":')).toEqual([]);
    expect(parser.push('"o1"}\n\n: keep-alive\n\nevent: booking.cancelled\r\ndata: {}\r\n\r\n')).toEqual([
      { type: "offer.received", data: { offer_id: "o1" } },
      { type: "booking.cancelled", data: {} },
    ]);
  });

  it("says which lists to read again", () => {
    expect(topicsOf({ type: "offer.received", data: {} })).toEqual(["offers"]);
    expect(topicsOf({ type: "booking.cancelled", data: {} })).toContain("visits");
    expect(topicsOf({ type: "booking.kept", data: {} })).toEqual(["visits", "requests"]);
    expect(topicsOf({ type: "something.new", data: {} })).toEqual(["offers", "visits", "requests"]);
  });
});
