// Asking for help: what, when, how long, how often, and notes for the helper. From "people I
// know", the same helper is asked first.
import { useState } from "preact/hooks";
import { answer, api, idempotencyKey, type Problem } from "../api/client";
import { type Me, SKILLS, type Skill } from "../api/views";
import { t } from "../i18n";
import { href } from "../router";
import { addDays, hh, localParts, startsAt } from "../time";
import { Choice, Done, Field, ProblemBox, Screen, Select, TextArea, problemOf } from "../ui";

type Repeat = "once" | "week" | "fortnight";

export function Ask(props: { me: Me; helperId: string | null; helperName: string | null }) {
  const zone = props.me.time_zone;
  const tomorrow = addDays(localParts(new Date(), zone).day, 1);
  const [skill, setSkill] = useState<Skill>("shopping");
  const [day, setDay] = useState(tomorrow);
  const [hour, setHour] = useState(11);
  const [hours, setHours] = useState(1);
  const [repeat, setRepeat] = useState<Repeat>("once");
  const [times, setTimes] = useState("");
  const [notes, setNotes] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    try {
      await answer(
        api.POST("/v1/requests", {
          body: {
            skill,
            starts_at: startsAt(day, hour, zone),
            hours,
            repeat:
              repeat === "once"
                ? null
                : { every: repeat, occurrences: times ? Number(times) : null },
            preferred_helper_id: props.helperId,
            notes: notes.trim() || null,
          },
          params: { header: idempotencyKey() },
        }),
      );
      setSent(true);
      setProblem(null);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  }

  if (sent) {
    return (
      <Screen title={t("ask.title")} back="/">
        <Done>{t("ask.sent")}</Done>
        <p>
          <a class="button primary" href={href("/requests")}>
            {t("home.requests")}
          </a>
        </p>
      </Screen>
    );
  }

  return (
    <Screen title={props.helperName ? t("ask.sameHelper", { name: props.helperName }) : t("ask.title")} back="/">
      <ProblemBox problem={problem} />
      <form onSubmit={submit}>
        <Choice
          name="skill"
          legend={t("ask.what")}
          value={skill}
          options={SKILLS.map((value) => ({ value, label: t(`skill.${value}`) }))}
          onChange={setSkill}
        />
        <Field id="day" type="date" label={t("ask.day")} min={tomorrow} value={day} onInput={(e) => setDay(e.currentTarget.value)} />
        <Select
          id="hour"
          label={t("ask.time")}
          value={String(hour)}
          options={Array.from({ length: 24 }, (_, h) => ({ value: String(h), label: hh(h) }))}
          onChange={(value) => setHour(Number(value))}
        />
        <Select
          id="hours"
          label={t("ask.hours")}
          value={String(hours)}
          options={Array.from({ length: 8 }, (_, i) => ({ value: String(i + 1), label: t("ask.hoursValue", { count: i + 1 }) }))}
          onChange={(value) => setHours(Number(value))}
        />
        <Choice
          name="repeat"
          legend={t("ask.repeat")}
          value={repeat}
          options={[
            { value: "once", label: t("ask.once") },
            { value: "week", label: t("ask.weekly") },
            { value: "fortnight", label: t("ask.fortnightly") },
          ]}
          onChange={setRepeat}
        />
        {repeat !== "once" && (
          <Field id="times" type="number" inputMode="numeric" min={1} max={520} optional label={t("ask.times")} value={times} onInput={(e) => setTimes(e.currentTarget.value)} />
        )}
        <TextArea id="notes" label={t("ask.notes")} hint={t("ask.notesHint")} optional maxLength={1000} value={notes} onInput={setNotes} />
        <button class="primary" type="submit" disabled={busy}>
          {t("ask.submit")}
        </button>
      </form>
    </Screen>
  );
}
