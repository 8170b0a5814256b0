// Someone to tell if I do not answer the door for a visit: Kith's welfare check tells them as
// well as its own team. One screen: who it is now, and naming, changing or removing them.
import { useState } from "preact/hooks";
import { answer, api, type Problem } from "../api/client";
import type { EmergencyContact } from "../api/views";
import { type Key, t } from "../i18n";
import { useLoad } from "../load";
import { Done, Field, Loading, ProblemBox, Screen, problemOf } from "../ui";
import { type FieldError, fieldProblem } from "./links";

export interface ContactDraft {
  name: string;
  email: string;
  phone: string;
}

/** What is wrong with a contact as typed, each naming its field; none when it can be sent. */
export function contactErrors(draft: ContactDraft): FieldError[] {
  const errors: FieldError[] = [];
  if (!draft.name.trim()) errors.push({ field: t("emergency.name"), reason: t("emergency.needName") });
  const email = draft.email.trim();
  if (!email && !draft.phone.trim()) {
    errors.push({ field: t("emergency.email"), reason: t("emergency.needWay") });
  } else if (email && !EMAIL.test(email)) {
    errors.push({ field: t("emergency.email"), reason: t("emergency.badEmail") });
  }
  return errors;
}

/** Roughly what booking accepts as an email address: said here in plain words first. */
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Booking's problem with its fields named as the person sees them on this screen. */
export function named(problem: Problem): Problem {
  const labels: Record<string, Key> = { name: "emergency.name", email: "emergency.email", phone: "emergency.phone" };
  const errors = (problem.errors ?? []).map((error) => {
    const label = labels[error.field];
    return label ? { ...error, field: t(label) } : error;
  });
  return { ...problem, errors };
}

/** The body booking takes: a way left empty is sent as none, not as an empty text. */
export function contactBody(draft: ContactDraft): EmergencyContact {
  return {
    name: draft.name.trim(),
    email: draft.email.trim() || null,
    phone: draft.phone.trim() || null,
  };
}

export function Emergency() {
  const loaded = useLoad(() => answer<EmergencyContact | null>(api.GET("/v1/me/emergency-contact")), []);
  const [contact, setContact] = useState<EmergencyContact | null | undefined>(undefined);
  const [mode, setMode] = useState<"view" | "edit" | "remove">("view");
  const [draft, setDraft] = useState<ContactDraft>({ name: "", email: "", phone: "" });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [bad, setBad] = useState<string[]>([]);
  const [done, setDone] = useState("");
  const current = contact === undefined ? loaded.value : contact;

  function edit() {
    setDraft({ name: current?.name ?? "", email: current?.email ?? "", phone: current?.phone ?? "" });
    setDone("");
    setProblem(null);
    setBad([]);
    setMode("edit");
  }

  async function save(event: Event) {
    event.preventDefault();
    const errors = contactErrors(draft);
    setBad(errors.map((error) => error.field));
    if (errors.length > 0) {
      setProblem(fieldProblem(errors));
      return;
    }
    try {
      const saved = await answer<EmergencyContact>(api.PUT("/v1/me/emergency-contact", { body: contactBody(draft) }));
      setContact(saved);
      setProblem(null);
      setDone(t("emergency.saved", { name: saved.name }));
      setMode("view");
    } catch (error) {
      setProblem(named(problemOf(error)));
    }
  }

  async function remove() {
    try {
      await answer(api.DELETE("/v1/me/emergency-contact"));
      setContact(null);
      setProblem(null);
      setDone(t("emergency.removed"));
      setMode("view");
    } catch (error) {
      setProblem(problemOf(error));
    }
  }

  const field = (key: keyof ContactDraft) => (event: { currentTarget: HTMLInputElement }) =>
    setDraft((now) => ({ ...now, [key]: event.currentTarget.value }));

  return (
    <Screen title={t("emergency.title")} back="/settings">
      <p class="lead">{t("emergency.why")}</p>
      <ProblemBox problem={problem ?? loaded.problem} />
      {done && <Done>{done}</Done>}
      {current === undefined ? (
        !loaded.problem && <Loading />
      ) : mode === "edit" ? (
        <form onSubmit={save} noValidate>
          <Field id="contact-name" autocomplete="off" label={t("emergency.name")} maxLength={80} aria-invalid={bad.includes(t("emergency.name")) || undefined} value={draft.name} onInput={field("name")} />
          <p class="hint">{t("emergency.reach")}</p>
          <Field id="contact-email" type="email" autocomplete="off" optional label={t("emergency.email")} maxLength={254} aria-invalid={bad.includes(t("emergency.email")) || undefined} value={draft.email} onInput={field("email")} />
          <Field id="contact-phone" type="tel" autocomplete="off" optional label={t("emergency.phone")} maxLength={40} value={draft.phone} onInput={field("phone")} />
          <button class="primary" type="submit">
            {t("emergency.save")}
          </button>
        </form>
      ) : mode === "remove" && current ? (
        <div class="notice" role="group" aria-labelledby="remove-sure">
          <p id="remove-sure">{t("emergency.removeSure", { name: current.name })}</p>
          <button class="danger" type="button" onClick={() => void remove()}>
            {t("emergency.removeYes")}
          </button>{" "}
          <button type="button" onClick={() => setMode("view")}>
            {t("emergency.keep")}
          </button>
        </div>
      ) : current ? (
        <>
          <h2>{t("emergency.current")}</h2>
          <dl class="card" id="emergency-contact">
            <dt>{t("emergency.name")}</dt>
            <dd>{current.name}</dd>
            {current.email && (
              <>
                <dt>{t("emergency.email")}</dt>
                <dd>{current.email}</dd>
              </>
            )}
            {current.phone && (
              <>
                <dt>{t("emergency.phone")}</dt>
                <dd>{current.phone}</dd>
              </>
            )}
          </dl>
          <ul class="actions">
            <li>
              <button type="button" class="primary" onClick={edit}>
                {t("emergency.change")}
              </button>
            </li>
            <li>
              <button type="button" onClick={() => { setDone(""); setMode("remove"); }}>
                {t("emergency.remove")}
              </button>
            </li>
          </ul>
        </>
      ) : (
        <>
          <p id="emergency-contact">{t("emergency.none")}</p>
          <button type="button" class="primary" onClick={edit}>
            {t("emergency.set")}
          </button>
        </>
      )}
    </Screen>
  );
}
