// The app's frame: who is signed in, their language, live notices, and which screen shows.
import { useEffect, useState } from "preact/hooks";
import { answer, api } from "./api/client";
import { listen } from "./api/events";
import type { Me } from "./api/views";
import { type Language, language, onLanguage, pick, setLanguage, t } from "./i18n";
import { receive, refreshAll, topicsOf } from "./live";
import { go, href, useRoute } from "./router";
import { screenFor } from "./screens";
import { session } from "./session";
import { Loading, ProblemBox, problemOf } from "./ui";
import type { Problem } from "./api/client";

export function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(Boolean(session.token()));
  const [me, setMe] = useState<Me | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [banner, setBanner] = useState<"offers" | "visits" | null>(null);
  const [, setLang] = useState<Language>(language());

  useEffect(() => onLanguage(() => setLang(language())), []);
  useEffect(
    () =>
      session.subscribe(() => {
        setSignedIn(Boolean(session.token()));
        if (!session.token()) setMe(null);
      }),
    [],
  );

  useEffect(() => {
    if (!signedIn) return;
    let live = true;
    answer<Me>(api.GET("/v1/me")).then(
      (found) => {
        if (!live) return;
        setMe(found);
        setProblem(null);
        const own = pick(found.languages);
        if (own && own !== language()) setLanguage(own);
      },
      (error: unknown) => live && setProblem(problemOf(error)),
    );
    const stop = listen(
      (notice) => {
        receive(notice);
        const topics = topicsOf(notice);
        if (notice.type === "offer.received") setBanner("offers");
        else if (topics.includes("visits")) setBanner("visits");
      },
      refreshAll,
    );
    return () => {
      live = false;
      stop();
    };
  }, [signedIn]);

  async function switchLanguage(next: Language) {
    setLanguage(next);
    if (me) {
      // The person's language is theirs, kept by Kith: their first language is the one the
      // app and Kith's messages use, wherever they sign in next.
      const languages = [next, ...me.languages.filter((tag) => pick([tag]) !== next)];
      try {
        setMe(await answer<Me>(api.PATCH("/v1/me", { body: { languages } })));
      } catch (error) {
        setProblem(problemOf(error));
      }
    }
  }

  async function signOut() {
    try {
      await api.DELETE("/v1/sessions/current");
    } finally {
      session.end();
      go("/");
    }
  }

  const other: Language = language() === "en" ? "cy" : "en";
  const bannerPath = banner === "offers" ? "/offers" : "/visits";
  return (
    <>
      <a class="skip" href="#main">
        {t("app.skip")}
      </a>
      <header class="top">
        <a class="brand" href={href("/")}>
          {t("app.name")}
        </a>
        <button
          type="button"
          class="language"
          lang={other}
          onClick={() => void switchLanguage(other)}
        >
          {other === "cy" ? "Cymraeg" : "English"}
        </button>
      </header>
      {banner && route.path !== bannerPath && (
        <div class="banner" role="status">
          <p>{banner === "offers" ? t("app.newOffer") : t("app.visitChanged")}</p>
          <a class="button" href={href(bannerPath)} onClick={() => setBanner(null)}>
            {banner === "offers" ? t("app.openOffers") : t("app.openVisits")}
          </a>
        </div>
      )}
      <main id="main" tabIndex={-1}>
        <ProblemBox problem={problem} />
        {signedIn && !me && !problem ? (
          <Loading />
        ) : (
          screenFor(route, me, signOut, (next) => setMe(next))
        )}
      </main>
    </>
  );
}
