// A helper's weekly hours and the days that differ, and the week ahead as Kith sees it.
import { useEffect, useState } from "preact/hooks";
import { answer, api, type Problem } from "../api/client";
import { type Availability, type AvailabilityBody, type Me, WEEKDAYS, type Weekday } from "../api/views";
import { language, t } from "../i18n";
import { useLoad } from "../load";
import { day as dayName, hh, localParts, week } from "../time";
import { Done, Field, Loading, ProblemBox, Screen, Select, problemOf } from "../ui";

type Exception = NonNullable<AvailabilityBody["exceptions"]>[number];

interface DayRule {
  on: boolean;
  start: number;
  end: number;
}

const HOURS = Array.from({ length: 25 }, (_, hour) => ({ value: String(hour), label: hh(hour) }));

function rulesFrom(availability: Availability): Record<Weekday, DayRule> {
  const rules = Object.fromEntries(
    WEEKDAYS.map((weekday) => [weekday, { on: false, start: 9, end: 17 }]),
  ) as Record<Weekday, DayRule>;
  for (const rule of availability.rules) {
    // One run of hours per day on this screen: the first of a day is shown and kept.
    const current = rules[rule.weekday];
    if (!current.on) rules[rule.weekday] = { on: true, start: hour(rule.start), end: hour(rule.end) };
  }
  return rules;
}

function hour(text: string): number {
  return Number(text.slice(0, 2));
}

export function Hours(props: { me: Me }) {
  const zone = props.me.time_zone;
  const [saved, setSaved] = useState(0);
  const loaded = useLoad(() => answer<Availability>(api.GET("/v1/me/availability")), [saved]);
  const [rules, setRules] = useState<Record<Weekday, DayRule> | null>(null);
  const [exceptions, setExceptions] = useState<Exception[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  const [awayFirst, setAwayFirst] = useState("");
  const [awayLast, setAwayLast] = useState("");
  const [extraDay, setExtraDay] = useState("");
  const [extraStart, setExtraStart] = useState(10);
  const [extraEnd, setExtraEnd] = useState(12);

  useEffect(() => {
    if (loaded.value && rules === null) {
      setRules(rulesFrom(loaded.value));
      setExceptions(loaded.value.exceptions as Exception[]);
    }
  }, [loaded.value]);

  if (!rules || !loaded.value) {
    return (
      <Screen title={t("hours.title")} back="/">
        <ProblemBox problem={loaded.problem} />
        <Loading />
      </Screen>
    );
  }

  function change(weekday: Weekday, next: Partial<DayRule>) {
    setRules((now) => (now ? { ...now, [weekday]: { ...now[weekday], ...next } } : now));
  }

  async function save(nextExceptions: Exception[] = exceptions) {
    if (!rules) return;
    setDone(false);
    const body: AvailabilityBody = {
      rules: WEEKDAYS.filter((weekday) => rules[weekday].on).map((weekday) => ({
        weekday,
        start: hh(rules[weekday].start),
        end: hh(rules[weekday].end),
      })),
      exceptions: nextExceptions,
    };
    try {
      await answer(api.PUT("/v1/me/availability", { body }));
      setExceptions(nextExceptions);
      setProblem(null);
      setDone(true);
      setSaved((n) => n + 1);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }

  const start = loaded.value.horizon_start;
  const today = start ? localParts(new Date(start), zone).day : new Date().toISOString().slice(0, 10);
  const days = week(loaded.value.hours, zone, today);
  const lang = language();

  return (
    <Screen title={t("hours.title")} back="/">
      <ProblemBox problem={problem} />
      {done && <Done>{t("app.saved")}</Done>}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <p>{t("hours.intro", { zone: zone.replace(/_/g, " ") })}</p>
        {WEEKDAYS.map((weekday) => {
          const rule = rules[weekday];
          const name = t(`day.${weekday}`);
          return (
            <fieldset class="rule" key={weekday}>
              <legend>{name}</legend>
              <div class="option">
                <input
                  type="checkbox"
                  id={`on-${weekday}`}
                  checked={rule.on}
                  onChange={(event) => change(weekday, { on: event.currentTarget.checked })}
                />
                <label for={`on-${weekday}`}>{t("hours.free", { day: name })}</label>
              </div>
              {rule.on && (
                <div class="times">
                  <Select
                    id={`start-${weekday}`}
                    label={t("hours.from")}
                    value={String(rule.start)}
                    options={HOURS.slice(0, 24)}
                    onChange={(value) => change(weekday, { start: Number(value) })}
                  />
                  <Select
                    id={`end-${weekday}`}
                    label={t("hours.to")}
                    value={String(rule.end)}
                    options={HOURS.slice(1)}
                    onChange={(value) => change(weekday, { end: Number(value) })}
                  />
                </div>
              )}
              {rule.on && rule.end <= rule.start && <p class="problem">{t("hours.endAfterStart")}</p>}
            </fieldset>
          );
        })}
        <button class="primary" type="submit">
          {t("hours.save")}
        </button>
      </form>

      <h2>{t("hours.week")}</h2>
      <p>{t("hours.weekIntro", { zone: zone.replace(/_/g, " ") })}</p>
      <ul class="week" id="week">
        {days.map((day) => (
          <li key={day.day}>
            <span class="day">{dayName(day.day, lang)}</span>
            <span>
              {day.ranges.length === 0
                ? t("hours.none")
                : day.ranges.map((range) => t("hours.range", range)).join(", ")}
            </span>
          </li>
        ))}
      </ul>

      <h2>{t("hours.exceptions")}</h2>
      <ul class="list">
        {exceptions.map((item, index) => (
          <li key={index} class="card">
            <p>
              {item.kind === "away"
                ? t("hours.away", { first: dayName(item.first_day, lang), last: dayName(item.last_day, lang) })
                : t("hours.extra", { day: dayName(item.day, lang), from: item.start, to: item.end })}
            </p>
            <button type="button" onClick={() => void save(exceptions.filter((_, i) => i !== index))}>
              {t("hours.remove")}
            </button>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save([...exceptions, { kind: "away", first_day: awayFirst, last_day: awayLast || awayFirst }]);
        }}
      >
        <fieldset>
          <legend>{t("hours.addAway")}</legend>
          <Field id="away-first" type="date" label={t("hours.awayFirst")} value={awayFirst} onInput={(e) => setAwayFirst(e.currentTarget.value)} />
          <Field id="away-last" type="date" label={t("hours.awayLast")} value={awayLast} onInput={(e) => setAwayLast(e.currentTarget.value)} />
          <button type="submit">{t("hours.add")}</button>
        </fieldset>
      </form>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save([...exceptions, { kind: "extra", day: extraDay, start: hh(extraStart), end: hh(extraEnd) }]);
        }}
      >
        <fieldset>
          <legend>{t("hours.addExtra")}</legend>
          <Field id="extra-day" type="date" label={t("hours.extraDay")} value={extraDay} onInput={(e) => setExtraDay(e.currentTarget.value)} />
          <div class="times">
            <Select id="extra-start" label={t("hours.from")} value={String(extraStart)} options={HOURS.slice(0, 24)} onChange={(v) => setExtraStart(Number(v))} />
            <Select id="extra-end" label={t("hours.to")} value={String(extraEnd)} options={HOURS.slice(1)} onChange={(v) => setExtraEnd(Number(v))} />
          </div>
          <button type="submit">{t("hours.add")}</button>
        </fieldset>
      </form>
    </Screen>
  );
}
