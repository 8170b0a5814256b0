// The offers inbox: each offer with why it came to this helper, and the answers to it. New
// offers appear by themselves (live notices move the "offers" topic).
import { useState } from "preact/hooks";
import { answer, api, idempotencyKey, type Problem } from "../api/client";
import type { Accepted, Me, Offer, Page, Reason } from "../api/views";
import { language, t } from "../i18n";
import { useTopic } from "../live";
import { useLoad } from "../load";
import { href } from "../router";
import { when } from "../time";
import { Done, Loading, ProblemBox, Screen, problemOf } from "../ui";

export function Offers(props: { me: Me }) {
  const changed = useTopic("offers");
  const [answered, setAnswered] = useState(0);
  const loaded = useLoad(
    () => answer<Page<Offer>>(api.GET("/v1/offers", { params: { query: { limit: 50 } } })),
    [changed, answered],
  );
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const lang = language();
  const zone = props.me.time_zone;
  const items = loaded.value?.items ?? [];
  const open = items.filter((offer) => offer.status === "open");

  async function accept(offer: Offer, series: boolean) {
    setDone(null);
    try {
      const accepted = await answer<Accepted>(
        api.POST("/v1/offers/{offer_id}/accept", {
          params: { path: { offer_id: offer.offer_id }, header: idempotencyKey() },
          body: { scope: series ? "series" : "occurrence" },
        }),
      );
      setProblem(null);
      setDone(
        series && accepted.series
          ? t("offers.acceptedSeries", { count: accepted.series.booked_request_ids.length + 1 })
          : t("offers.accepted"),
      );
    } catch (error) {
      setProblem(problemOf(error));
    }
    setAnswered((n) => n + 1);
  }

  async function decline(offer: Offer) {
    setDone(null);
    try {
      await answer(api.POST("/v1/offers/{offer_id}/decline", { params: { path: { offer_id: offer.offer_id } } }));
      setProblem(null);
      setDone(t("offers.declined"));
    } catch (error) {
      setProblem(problemOf(error));
    }
    setAnswered((n) => n + 1);
  }

  return (
    <Screen title={t("offers.title")} back="/">
      <ProblemBox problem={problem ?? loaded.problem} />
      {done && (
        <Done>
          {done} <a href={href("/visits")}>{t("home.visits")}</a>
        </Done>
      )}
      {!loaded.value && !loaded.problem && <Loading />}
      {loaded.value && open.length === 0 && <p>{t("offers.none")}</p>}
      <ul class="list" aria-live="polite">
        {open.map((offer) => (
          <li class="card offer" key={offer.offer_id} data-offer-id={offer.offer_id}>
            <h2>
              {t(`skill.${offer.skill}`)}: {when(offer.starts_at, zone, lang)}
            </h2>
            <p>{t("offers.who", { name: offer.neighbour.display_name ?? "" })}</p>
            <p>{t("ask.hoursValue", { count: offer.hours })}</p>
            {offer.repeats && <p>{t(`offers.repeats.${offer.repeats}`)}</p>}
            <p>
              <strong>{t("offers.why")}</strong>
            </p>
            <ul>
              {offer.reasons.map((reason, index) => (
                <li key={index}>{reasonText(reason)}</li>
              ))}
            </ul>
            <p>{t("offers.answerBy", { when: when(offer.expires_at, zone, lang) })}</p>
            <div class="actions">
              <button class="primary" type="button" onClick={() => void accept(offer, false)}>
                {t("offers.acceptOne")}
              </button>
              {offer.repeats && (
                <button class="primary" type="button" onClick={() => void accept(offer, true)}>
                  {t("offers.acceptSeries")}
                </button>
              )}
              <button type="button" onClick={() => void decline(offer)}>
                {t("offers.decline")}
              </button>
            </div>
          </li>
        ))}
      </ul>
    </Screen>
  );
}

/** Matching writes its reasons in English; those the app knows are said in the person's language. */
function reasonText(reason: Reason): string {
  if (language() === "en") return reason.text;
  const known: Record<string, string> = {
    preferred_by_neighbour: "Mae'r cymydog wedi gofyn amdanoch chi",
    newcomer: "Newydd i Kith: mae eich ymweliad cyntaf yn aros",
  };
  const distance = /^([\d.]+) km away$/.exec(reason.text);
  if (reason.code === "nearby" && distance) return `${distance[1]} km i ffwrdd`;
  return known[reason.code] ?? reason.text;
}
