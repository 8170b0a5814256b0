// The start: one button per task, largest first. Helpers' tasks show once they offer a skill.
import type { Me, Offer, Page } from "../api/views";
import { answer, api } from "../api/client";
import { t } from "../i18n";
import { useTopic } from "../live";
import { useLoad } from "../load";
import { href } from "../router";
import { Screen } from "../ui";

export function Home(props: { me: Me; onSignOut: () => void }) {
  const { me } = props;
  const helper = me.skills.length > 0;
  const offers = useTopic("offers");
  const inbox = useLoad(
    () => (helper ? answer<Page<Offer>>(api.GET("/v1/offers", { params: { query: { limit: 50 } } })) : Promise.resolve(null)),
    [helper, offers],
  );
  const open = inbox.value?.items.filter((offer) => offer.status === "open").length ?? 0;
  return (
    <Screen title={t("home.title", { name: me.display_name })}>
      {me.suspended && (
        <p class="notice" role="status">
          {t("home.paused")}
        </p>
      )}
      <nav aria-label={t("app.name")}>
        <ul class="tasks">
          <li>
            <a class="button primary" href={href("/ask")}>
              {t("home.askHelp")}
            </a>
          </li>
          {helper && (
            <li>
              <a class="button" href={href("/offers")} id="offers-link">
                {open > 0 ? t("home.offersCount", { count: open }) : t("home.offers")}
              </a>
            </li>
          )}
          <li>
            <a class="button" href={href("/visits")}>
              {t("home.visits")}
            </a>
          </li>
          <li>
            <a class="button" href={href("/requests")}>
              {t("home.requests")}
            </a>
          </li>
          <li>
            <a class="button" href={href("/people")}>
              {t("home.people")}
            </a>
          </li>
          {helper && (
            <li>
              <a class="button" href={href("/hours")}>
                {t("home.hours")}
              </a>
            </li>
          )}
          <li>
            <a class="button" href={href("/ledger")}>
              {t("home.ledger")}
            </a>
          </li>
          <li>
            <a class="button" href={href("/settings")}>
              {t("home.settings")}
            </a>
          </li>
          <li>
            <button type="button" onClick={props.onSignOut}>
              {t("home.signOut")}
            </button>
          </li>
        </ul>
      </nav>
    </Screen>
  );
}
