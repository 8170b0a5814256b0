// What I have asked for, and calling off one visit or every later one of a series. Each
// cancellation asks "are you sure?" on a screen of its own, in words.
import { useState } from "preact/hooks";
import { answer, api, type Problem } from "../api/client";
import type { HelpRequest, Me, Page } from "../api/views";
import { language, t } from "../i18n";
import { useTopic } from "../live";
import { useLoad } from "../load";
import { go, href } from "../router";
import { when } from "../time";
import { Done, Loading, ProblemBox, Screen, problemOf } from "../ui";

async function myRequests(): Promise<HelpRequest[]> {
  const found: HelpRequest[] = [];
  let cursor = "";
  // Oldest first, a page at a time; a person has few.
  for (let page = 0; page < 10; page += 1) {
    const next = await answer<Page<HelpRequest>>(
      api.GET("/v1/requests", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } }),
    );
    found.push(...next.items);
    if (!next.next_cursor) break;
    cursor = next.next_cursor;
  }
  return found;
}

export function Requests(props: { me: Me }) {
  const changed = useTopic("requests");
  const loaded = useLoad(myRequests, [changed]);
  const lang = language();
  const now = Date.now();
  const items = (loaded.value ?? []).filter((item) => new Date(item.starts_at).getTime() > now - 86400000);
  return (
    <Screen title={t("requests.title")} back="/">
      <ProblemBox problem={loaded.problem} />
      {!loaded.value && !loaded.problem && <Loading />}
      {loaded.value && items.length === 0 && <p>{t("requests.none")}</p>}
      <ul class="list">
        {items.map((item) => (
          <li class="card" key={item.request_id}>
            <h2>{t(`skill.${item.skill}`)}</h2>
            <p>{when(item.starts_at, props.me.time_zone, lang)}</p>
            <p class="status">{t(`requests.status.${item.status}`)}</p>
            {item.series_id && item.occurrence !== null && <p>{t("requests.repeats", { n: item.occurrence })}</p>}
            {(item.status === "open" || item.status === "unmatched") && (
              <a class="button" href={href(`/requests/${item.request_id}/cancel`)}>
                {t("requests.cancelOne")}
              </a>
            )}
            {item.series_id && item.status !== "cancelled" && (
              <a class="button" href={href(`/series/${item.series_id}/cancel`)}>
                {t("requests.cancelSeries")}
              </a>
            )}
          </li>
        ))}
      </ul>
    </Screen>
  );
}

export function CancelRequest(props: { me: Me; requestId: string }) {
  const loaded = useLoad(
    () => answer<HelpRequest>(api.GET("/v1/requests/{request_id}", { params: { path: { request_id: props.requestId } } })),
    [props.requestId],
  );
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  async function cancel() {
    try {
      await answer(api.POST("/v1/requests/{request_id}/cancel", { params: { path: { request_id: props.requestId } } }));
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <Screen title={t("requests.cancelOne")} back="/requests">
      <ProblemBox problem={problem ?? loaded.problem} />
      {done ? (
        <Done>{t("requests.cancelled")}</Done>
      ) : (
        loaded.value && (
          <>
            <p class="lead">{t("requests.confirmOne", { when: when(loaded.value.starts_at, props.me.time_zone, language()) })}</p>
            <div class="actions">
              <button class="danger" type="button" onClick={() => void cancel()}>
                {t("requests.yesCancel")}
              </button>
              <button type="button" onClick={() => go("/requests")}>
                {t("requests.noKeep")}
              </button>
            </div>
          </>
        )
      )}
    </Screen>
  );
}

export function CancelSeries(props: { seriesId: string }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  async function cancel() {
    try {
      await answer(api.POST("/v1/series/{series_id}/cancel", { params: { path: { series_id: props.seriesId } } }));
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <Screen title={t("requests.cancelSeries")} back="/requests">
      <ProblemBox problem={problem} />
      {done ? (
        <Done>{t("requests.cancelled")}</Done>
      ) : (
        <>
          <p class="lead">{t("requests.confirmSeries")}</p>
          <div class="actions">
            <button class="danger" type="button" onClick={() => void cancel()}>
              {t("requests.yesStop")}
            </button>
            <button type="button" onClick={() => go("/requests")}>
              {t("requests.noKeep")}
            </button>
          </div>
        </>
      )}
    </Screen>
  );
}
