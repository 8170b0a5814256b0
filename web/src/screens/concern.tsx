// Raising a concern, simply and safely: what to do in an emergency first, who it is about
// (someone from a recent visit), and what happened.
import { useState } from "preact/hooks";
import { answer, api, idempotencyKey, type Problem } from "../api/client";
import type { Booking, Page } from "../api/views";
import { t } from "../i18n";
import { useLoad } from "../load";
import { Done, Loading, ProblemBox, Screen, Select, TextArea, problemOf } from "../ui";

export function Concern(props: { about: string | null; booking: string | null }) {
  const people = useLoad(async () => {
    const [upcoming, past] = await Promise.all([
      answer<Page<Booking>>(api.GET("/v1/bookings", { params: { query: { when: "upcoming", limit: 50 } } })),
      answer<Page<Booking>>(api.GET("/v1/bookings", { params: { query: { when: "past", limit: 50 } } })),
    ]);
    const seen = new Map<string, { name: string; booking: string }>();
    for (const booking of [...upcoming.items, ...past.items]) {
      const party = booking.side === "helper" ? booking.neighbour : booking.helper;
      if (!seen.has(party.person_id)) seen.set(party.person_id, { name: party.display_name ?? "", booking: booking.booking_id });
    }
    return seen;
  }, []);
  const [about, setAbout] = useState(props.about ?? "");
  const [summary, setSummary] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  const options = [...(people.value ?? new Map()).entries()].map(([id, person]) => ({ value: id, label: person.name }));
  const chosen = about || options[0]?.value || "";

  async function submit(event: Event) {
    event.preventDefault();
    const booking = props.about === chosen && props.booking ? props.booking : people.value?.get(chosen)?.booking ?? null;
    try {
      await answer(
        api.POST("/v1/concerns", {
          body: { about_id: chosen, booking_id: booking, summary },
          params: { header: idempotencyKey() },
        }),
      );
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }

  return (
    <Screen title={t("concern.title")} back="/">
      <p class="notice">
        <strong>{t("concern.urgent")}</strong>
      </p>
      <ProblemBox problem={problem ?? people.problem} />
      {done ? (
        <Done>{t("concern.done")}</Done>
      ) : !people.value ? (
        <Loading />
      ) : options.length === 0 ? (
        <p>{t("concern.nobody")}</p>
      ) : (
        <form onSubmit={submit}>
          <p>{t("concern.intro")}</p>
          <Select id="about" label={t("concern.about")} value={chosen} options={options} onChange={setAbout} />
          <TextArea id="summary" label={t("concern.summary")} maxLength={2000} value={summary} onInput={setSummary} />
          <button class="primary" type="submit">
            {t("concern.submit")}
          </button>
        </form>
      )}
    </Screen>
  );
}
