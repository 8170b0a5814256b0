// The private "would you like to see each other again?" after a visit. Nobody else ever sees
// the answers: the screen says so before asking.
import { useState } from "preact/hooks";
import { answer, api, idempotencyKey, type Problem } from "../api/client";
import type { AsAgreed, SeeAgain } from "../api/views";
import { t } from "../i18n";
import { href } from "../router";
import { Choice, Done, ProblemBox, Screen, TextArea, problemOf } from "../ui";

export function After(props: { bookingId: string }) {
  const [seeAgain, setSeeAgain] = useState<SeeAgain>("yes");
  const [asAgreed, setAsAgreed] = useState<AsAgreed>("yes");
  const [note, setNote] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    try {
      await answer(
        api.POST("/v1/bookings/{booking_id}/check-ins", {
          params: { path: { booking_id: props.bookingId }, header: idempotencyKey() },
          body: { see_again: seeAgain, as_agreed: asAgreed, note: note.trim() || null },
        }),
      );
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <Screen title={t("after.title")} back={`/visit/${props.bookingId}`}>
      <ProblemBox problem={problem} />
      {done ? (
        <>
          <Done>{t("after.done")}</Done>
          <p>
            <a class="button" href={href("/people")}>
              {t("home.people")}
            </a>
          </p>
        </>
      ) : (
        <form onSubmit={submit}>
          <p class="lead">{t("after.private")}</p>
          <Choice
            name="see-again"
            legend={t("after.seeAgain")}
            value={seeAgain}
            options={[
              { value: "yes", label: t("after.yes") },
              { value: "not_sure", label: t("after.notSure") },
              { value: "no", label: t("after.no") },
            ]}
            onChange={setSeeAgain}
          />
          <Choice
            name="as-agreed"
            legend={t("after.asAgreed")}
            value={asAgreed}
            options={[
              { value: "yes", label: t("after.yes") },
              { value: "partly", label: t("after.partly") },
              { value: "no", label: t("after.no") },
            ]}
            onChange={setAsAgreed}
          />
          <TextArea id="note" label={t("after.note")} optional maxLength={2000} value={note} onInput={setNote} />
          <button class="primary" type="submit">
            {t("after.submit")}
          </button>
        </form>
      )}
    </Screen>
  );
}
