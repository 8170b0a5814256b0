// A person's own settings: their language, the messages Kith sends them, their data, and
// leaving Kith. Each is a screen of its own.
import { useState } from "preact/hooks";
import { answer, api, type Problem } from "../api/client";
import type { Me, NoticeChannel, NoticeKind, NotificationPreferences } from "../api/views";
import { type Language, language, pick, setLanguage, t } from "../i18n";
import { useLoad } from "../load";
import { href } from "../router";
import { session } from "../session";
import { hh } from "../time";
import { Choice, Done, Field, Loading, ProblemBox, Screen, Select, problemOf } from "../ui";
import { VerifyPrompt } from "./links";

/** Every kind of message, in the order shown. A record, so that a kind the API adds breaks
 * the build until it has its words here. */
const ORDER: Record<NoticeKind, number> = {
  offer_received: 0,
  booking_confirmed: 1,
  booking_cancelled: 2,
  booking_reoffered: 3,
  booking_kept: 4,
  reschedule_proposed: 5,
  booking_rescheduled: 6,
  reminder_day_before: 7,
  reminder_hour_before: 8,
  checkin_question: 9,
  vetting_outcome: 10,
  concern_closed: 11,
};
const KINDS = (Object.keys(ORDER) as NoticeKind[]).sort((a, b) => ORDER[a] - ORDER[b]);
const EVERY_CHANNEL: NoticeChannel[] = ["email", "sms", "push"];
/** Kith always sends these: a visit somebody waits for will not happen. */
const SAFETY: readonly NoticeKind[] = ["booking_cancelled"];

export function Settings(props: { me: Me; onMe: (me: Me) => void }) {
  const [chosen, setChosen] = useState<Language>(language());
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  async function save(event: Event) {
    event.preventDefault();
    const languages = [chosen, ...props.me.languages.filter((tag) => pick([tag]) !== chosen)];
    try {
      props.onMe(await answer<Me>(api.PATCH("/v1/me", { body: { languages } })));
      setLanguage(chosen);
      setProblem(null);
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <Screen title={t("settings.title")} back="/">
      <ProblemBox problem={problem} />
      {done && <Done>{t("app.saved")}</Done>}
      <VerifyPrompt me={props.me} />
      <form onSubmit={save}>
        <Choice
          name="language"
          legend={t("settings.language")}
          value={chosen}
          options={[
            { value: "en", label: "English" },
            { value: "cy", label: "Cymraeg" },
          ]}
          onChange={setChosen}
        />
        <button type="submit">{t("settings.saveLanguage")}</button>
      </form>
      <p class="hint">{t("settings.textSize")}</p>
      <ul class="tasks">
        <li>
          <a class="button" href={href("/settings/messages")}>
            {t("settings.notifications")}
          </a>
        </li>
        <li>
          <a class="button" href={href("/settings/emergency")}>
            {t("emergency.link")}
          </a>
        </li>
        <li>
          <a class="button" href={href("/settings/export")}>
            {t("settings.exportLink")}
          </a>
        </li>
        <li>
          <a class="button" href={href("/settings/delete")}>
            {t("settings.deleteLink")}
          </a>
        </li>
      </ul>
    </Screen>
  );
}

export function Messages() {
  const loaded = useLoad(() => answer<NotificationPreferences>(api.GET("/v1/me/notifications")), []);
  const [prefs, setPrefs] = useState<NotificationPreferences | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  const current = prefs ?? loaded.value;
  if (!current) {
    return (
      <Screen title={t("notify.title")} back="/settings">
        <ProblemBox problem={loaded.problem} />
        <Loading />
      </Screen>
    );
  }
  const channels = current.channels ?? {};
  // A kind left out is sent on every channel: turning its email off keeps the others.
  const emailOn = (kind: NoticeKind) => SAFETY.includes(kind) || (channels[kind] ?? EVERY_CHANNEL).includes("email");
  function toggle(kind: NoticeKind, on: boolean) {
    const kept = (channels[kind] ?? EVERY_CHANNEL).filter((channel) => channel !== "email");
    setPrefs({ ...current!, channels: { ...channels, [kind]: on ? [...kept, "email"] : kept } });
  }
  const quiet = current.quiet_hours ?? null;
  async function save(event: Event) {
    event.preventDefault();
    try {
      await answer(api.PUT("/v1/me/notifications", { body: current! }));
      setProblem(null);
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  const hours = Array.from({ length: 24 }, (_, h) => ({ value: hh(h), label: hh(h) }));
  return (
    <Screen title={t("notify.title")} back="/settings">
      <ProblemBox problem={problem} />
      {done && <Done>{t("app.saved")}</Done>}
      <form onSubmit={save}>
        <fieldset class="choice">
          <legend>{t("notify.intro")}</legend>
          {KINDS.map((kind) => (
            <div class="option" key={kind}>
              <input
                type="checkbox"
                id={`email-${kind}`}
                checked={emailOn(kind)}
                disabled={SAFETY.includes(kind)}
                onChange={(event) => toggle(kind, event.currentTarget.checked)}
              />
              <label for={`email-${kind}`}>{t(`notify.kind.${kind}`)}</label>
            </div>
          ))}
        </fieldset>
        <fieldset class="choice">
          <legend>{t("notify.quiet")}</legend>
          <div class="option">
            <input
              type="checkbox"
              id="quiet-on"
              checked={quiet !== null}
              onChange={(event) =>
                setPrefs({ ...current, quiet_hours: event.currentTarget.checked ? { start: "21:00", end: "08:00" } : null })
              }
            />
            <label for="quiet-on">{t("notify.quietOn")}</label>
          </div>
          {quiet && (
            <div class="times">
              <Select id="quiet-start" label={t("hours.from")} value={quiet.start} options={hours} onChange={(start) => setPrefs({ ...current, quiet_hours: { ...quiet, start } })} />
              <Select id="quiet-end" label={t("hours.to")} value={quiet.end} options={hours} onChange={(end) => setPrefs({ ...current, quiet_hours: { ...quiet, end } })} />
            </div>
          )}
        </fieldset>
        <button class="primary" type="submit">
          {t("notify.save")}
        </button>
      </form>
      <Push />
    </Screen>
  );
}

/** Messages shown by this device (web push), where the browser can and Kith sends them. */
function Push() {
  const key = useLoad(() => answer<{ key: string | null }>(api.GET("/v1/push/key")), []);
  const [state, setState] = useState<"idle" | "done" | "refused">("idle");
  const [problem, setProblem] = useState<Problem | null>(null);
  const able = "serviceWorker" in navigator && "PushManager" in globalThis && "Notification" in globalThis;
  async function subscribe() {
    const serverKey = key.value?.key;
    if (!serverKey) return;
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        setState("refused");
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: base64url(serverKey),
      });
      const json = subscription.toJSON();
      await answer(
        api.POST("/v1/me/push-subscriptions", {
          body: { endpoint: json.endpoint ?? "", keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" } },
        }),
      );
      setState("done");
      setProblem(null);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <section aria-labelledby="push-title">
      <h2 id="push-title">{t("notify.push")}</h2>
      <ProblemBox problem={problem} />
      {key.value?.key === null ? (
        <p>{t("notify.pushNone")}</p>
      ) : !able || state === "refused" ? (
        <p>{t("notify.pushOff")}</p>
      ) : state === "done" ? (
        <Done>{t("notify.pushDone")}</Done>
      ) : (
        <button type="button" disabled={!key.value} onClick={() => void subscribe()}>
          {t("notify.pushOn")}
        </button>
      )}
    </section>
  );
}

function base64url(text: string): Uint8Array<ArrayBuffer> {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const raw = atob(padded);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

export function Export() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  async function download() {
    try {
      const data = await answer<unknown>(api.GET("/v1/me/export"));
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "kith-my-data.json";
      link.click();
      URL.revokeObjectURL(link.href);
      setProblem(null);
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <Screen title={t("export.title")} back="/settings">
      <ProblemBox problem={problem} />
      {done && <Done>{t("export.done")}</Done>}
      <p>{t("export.intro")}</p>
      <button class="primary" type="button" onClick={() => void download()}>
        {t("export.submit")}
      </button>
    </Screen>
  );
}

export function DeleteAccount() {
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    try {
      await answer(api.DELETE("/v1/me", { body: { password } }));
      setDone(true);
      // The account is gone: so is the session, on this device too.
      setTimeout(() => session.end(), 4000);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <Screen title={t("delete.title")} back="/settings">
      <ProblemBox problem={problem} />
      {done ? (
        <Done>{t("delete.done")}</Done>
      ) : (
        <form onSubmit={submit}>
          <p class="lead">{t("delete.intro")}</p>
          <Field id="password" type="password" autocomplete="current-password" label={t("delete.password")} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          <button class="danger" type="submit">
            {t("delete.submit")}
          </button>
        </form>
      )}
    </Screen>
  );
}
