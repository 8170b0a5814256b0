import { describe, expect, it } from "vitest";
import { addDays, startsAt, week, when } from "../src/time";

describe("times in a person's own time zone", () => {
  it("says a visit's start in words, in English and Welsh", () => {
    expect(when("2026-12-08T10:00:00Z", "Europe/London", "en")).toBe("Tuesday 8 December at 10:00");
    expect(when("2026-07-07T09:00:00Z", "Europe/London", "en")).toBe("Tuesday 7 July at 10:00");
    expect(when("2026-12-08T10:00:00Z", "Europe/London", "cy")).toMatch(/Mawrth.*8.*Rhagfyr am 10:00/);
  });

  it("makes a local hour an instant with the offset of that day", () => {
    expect(startsAt("2026-12-08", 10, "Europe/London")).toBe("2026-12-08T10:00:00+00:00");
    expect(startsAt("2026-07-07", 10, "Europe/London")).toBe("2026-07-07T10:00:00+01:00");
    expect(startsAt("2026-07-07", 10, "America/New_York")).toBe("2026-07-07T10:00:00-04:00");
    // The clocks go forward at 01:00 UTC on 29 March 2026 in London.
    expect(startsAt("2026-03-29", 9, "Europe/London")).toBe("2026-03-29T09:00:00+01:00");
  });

  it("shows free hours as runs per local day, a week from today", () => {
    const hours = [
      "2026-12-07T09:00:00Z",
      "2026-12-07T10:00:00Z",
      "2026-12-07T14:00:00Z",
      "2026-12-09T23:00:00Z",
    ];
    const days = week(hours, "Europe/London", "2026-12-07");
    expect(days).toHaveLength(7);
    expect(days[0]).toEqual({
      day: "2026-12-07",
      ranges: [
        { from: "09:00", to: "11:00" },
        { from: "14:00", to: "15:00" },
      ],
    });
    expect(days[1]?.ranges).toEqual([]);
    expect(days[2]?.ranges).toEqual([{ from: "23:00", to: "24:00" }]);
    // The same hours in Auckland fall on the next local day.
    const far = week(hours, "Pacific/Auckland", "2026-12-07");
    expect(far[0]?.ranges).toEqual([{ from: "22:00", to: "24:00" }]);
    expect(far[1]?.ranges).toEqual([{ from: "03:00", to: "04:00" }]);
  });

  it("counts calendar days across months", () => {
    expect(addDays("2026-12-30", 3)).toBe("2027-01-02");
  });
});
