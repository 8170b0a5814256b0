// "People I know": the relationships, and asking the same helper again.
import { answer, api } from "../api/client";
import type { Page, Relationship } from "../api/views";
import { t } from "../i18n";
import { useLoad } from "../load";
import { href } from "../router";
import { Loading, ProblemBox, Screen } from "../ui";

export function People() {
  const loaded = useLoad(
    () => answer<Page<Relationship>>(api.GET("/v1/me/relationships", { params: { query: { limit: 100 } } })),
    [],
  );
  const items = loaded.value?.items ?? [];
  return (
    <Screen title={t("people.title")} back="/">
      <ProblemBox problem={loaded.problem} />
      {!loaded.value && !loaded.problem && <Loading />}
      {loaded.value && items.length === 0 && <p>{t("people.none")}</p>}
      <ul class="list">
        {items.map((person) => (
          <li class="card" key={`${person.person_id}-${person.my_side}`}>
            <h2>{person.display_name}</h2>
            <p>{t(`people.stage.${person.stage}`)}</p>
            <p>
              {person.my_side === "neighbour"
                ? t("people.helped", { count: person.visits })
                : t("people.youHelped", { count: person.visits })}
            </p>
            {person.my_side === "neighbour" && (
              <a
                class="button primary"
                href={href(`/ask?helper=${person.person_id}&name=${encodeURIComponent(person.display_name ?? "")}`)}
              >
                {t("people.askAgain", { name: person.display_name ?? "" })}
              </a>
            )}
          </li>
        ))}
      </ul>
    </Screen>
  );
}
