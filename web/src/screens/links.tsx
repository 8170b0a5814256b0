// The links Kith emails, and the screens they open: a forgotten password (asked for from the
// sign-in screen, reset from the link), and checking an email address (from the link, or a
// new link asked for from the settings screen). Booking keeps the tokens; the app only passes
// the one from the link (after "token=" in its address) back.
import { useEffect, useState } from "preact/hooks";
import { answer, api, type Problem } from "../api/client";
import type { Me } from "../api/views";
import { t } from "../i18n";
import { href } from "../router";
import { session } from "../session";
import { Done, Field, Loading, ProblemBox, Screen, problemOf } from "../ui";

/** What booking accepts as a link's token: anything else is a link cut short in copying. */
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** The token in a link's address (``#/reset?token=...``), or null when it is missing or cut. */
export function linkToken(params: URLSearchParams): string | null {
  const token = (params.get("token") ?? "").trim();
  return TOKEN.test(token) ? token : null;
}

export interface FieldError {
  /** The field's label, as the person sees it. */
  field: string;
  reason: string;
}

/** What is wrong with a new password typed twice, each naming its field; none when right. */
export function newPasswordErrors(password: string, again: string): FieldError[] {
  const errors: FieldError[] = [];
  if (password.length < 8) errors.push({ field: t("reset.password"), reason: t("reset.tooShort") });
  else if (password.length > 256) errors.push({ field: t("reset.password"), reason: t("reset.tooLong") });
  if (again !== password) errors.push({ field: t("reset.again"), reason: t("reset.different") });
  return errors;
}

/** The problem box's words for mistakes found before anything is sent. */
export function fieldProblem(errors: FieldError[]): Problem | null {
  return errors.length === 0 ? null : { status: 422, title: "", detail: t("reset.fix"), errors };
}

/** What the forgotten-password screen sends for what was typed: an email address (it has an
 * "@"), else a mobile number with the spaces, dashes and brackets people type taken out. */
export function accountOf(typed: string): { email: string } | { phone: string } | null {
  const text = typed.trim();
  if (!text) return null;
  if (text.includes("@")) return { email: text };
  return { phone: text.replace(/[\s().-]/g, "") };
}

/** Whether booking refused the link itself (used, expired, replaced or unknown). */
function refusedLink(problem: Problem): boolean {
  return problem.status === 422 && (problem.errors ?? []).some((error) => error.field.endsWith("token"));
}

export function Forgot() {
  const [email, setEmail] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const account = accountOf(email);
    if (!account) {
      setProblem(fieldProblem([{ field: t("forgot.email"), reason: t("forgot.noEmail") }]));
      return;
    }
    setBusy(true);
    try {
      // Booking answers the same whether or not an account has the address, and so does the app.
      await answer(api.POST("/v1/auth/password-reset", { body: account }));
      setProblem(null);
      setSent(true);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Screen title={t("forgot.title")} back="/sign-in">
      <ProblemBox problem={problem} />
      {sent ? (
        <>
          <Done>{t("forgot.sent")}</Done>
          <p>{t("forgot.again")}</p>
          <p>
            <a class="button" href={href("/sign-in")}>
              {t("reset.signIn")}
            </a>
          </p>
        </>
      ) : (
        <form onSubmit={submit} noValidate>
          <p class="lead">{t("forgot.intro")}</p>
          <Field
            id="email"
            autocomplete="username"
            label={t("forgot.email")}
            hint={t("forgot.emailHint")}
            maxLength={254}
            aria-invalid={problem?.errors?.length ? true : undefined}
            value={email}
            onInput={(event) => setEmail(event.currentTarget.value)}
          />
          <button class="primary" type="submit" disabled={busy}>
            {t("forgot.submit")}
          </button>
        </form>
      )}
    </Screen>
  );
}

export function Reset(props: { params: URLSearchParams }) {
  const token = linkToken(props.params);
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [show, setShow] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [bad, setBad] = useState<string[]>([]);
  const [state, setState] = useState<"form" | "done" | "refused">(token ? "form" : "refused");
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const errors = newPasswordErrors(password, again);
    setBad(errors.map((error) => error.field));
    if (errors.length > 0) {
      setProblem(fieldProblem(errors));
      return;
    }
    setBusy(true);
    try {
      await answer(api.POST("/v1/auth/password-reset/confirm", { body: { token: token ?? "", password } }));
      // Booking ended every session of the account, this device's too.
      session.end();
      setProblem(null);
      setState("done");
    } catch (error) {
      const found = problemOf(error);
      if (refusedLink(found)) setState("refused");
      setProblem(refusedLink(found) ? null : found);
    } finally {
      setBusy(false);
    }
  }

  if (state === "done") {
    return (
      <Screen title={t("reset.title")}>
        <Done>{t("reset.done")}</Done>
        <p>
          <a class="button primary" href={href("/sign-in")}>
            {t("reset.signIn")}
          </a>
        </p>
      </Screen>
    );
  }
  if (state === "refused") {
    return (
      <Screen title={t("reset.title")}>
        <p class="notice" role="alert">
          {t("reset.badLink")}
        </p>
        <p>
          <a class="button primary" href={href("/forgot")}>
            {t("reset.askAgain")}
          </a>
        </p>
      </Screen>
    );
  }
  return (
    <Screen title={t("reset.title")}>
      <ProblemBox problem={problem} />
      <form onSubmit={submit} noValidate>
        <p class="lead">{t("reset.intro")}</p>
        <Field
          id="new-password"
          type={show ? "text" : "password"}
          autocomplete="new-password"
          label={t("reset.password")}
          hint={t("reset.hint")}
          aria-invalid={bad.includes(t("reset.password")) || undefined}
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <Field
          id="new-password-again"
          type={show ? "text" : "password"}
          autocomplete="new-password"
          label={t("reset.again")}
          aria-invalid={bad.includes(t("reset.again")) || undefined}
          value={again}
          onInput={(event) => setAgain(event.currentTarget.value)}
        />
        <div class="option">
          <input type="checkbox" id="show-passwords" checked={show} onChange={(event) => setShow(event.currentTarget.checked)} />
          <label for="show-passwords">{t("reset.show")}</label>
        </div>
        <button class="primary" type="submit" disabled={busy}>
          {t("reset.submit")}
        </button>
      </form>
    </Screen>
  );
}

/** Opened from the link: the address is checked at once (opening it is the person's say-so). */
export function Verify(props: { params: URLSearchParams; onVerified: (() => void) | null }) {
  const signedIn = props.onVerified !== null;
  const token = linkToken(props.params);
  const [state, setState] = useState<"checking" | "done" | "refused">(token ? "checking" : "refused");
  const [problem, setProblem] = useState<Problem | null>(null);
  useEffect(() => {
    if (!token) return;
    let live = true;
    answer(api.POST("/v1/auth/email-verification/confirm", { body: { token } })).then(
      () => {
        if (!live) return;
        setState("done");
        props.onVerified?.();
      },
      (error: unknown) => {
        if (!live) return;
        const found = problemOf(error);
        if (refusedLink(found)) setState("refused");
        else setProblem(found);
      },
    );
    return () => {
      live = false;
    };
  }, [token]);
  return (
    <Screen title={t("verify.title")}>
      <ProblemBox problem={problem} />
      {state === "checking" && !problem && <Loading />}
      {state === "done" && <Done>{t("verify.done")}</Done>}
      {state === "refused" && (
        <p class="notice" role="alert">
          {t("verify.badLink")}
        </p>
      )}
      {state !== "checking" && (
        <p>
          <a class="button primary" href={href(signedIn ? "/settings" : "/sign-in")}>
            {signedIn ? t("verify.start") : t("reset.signIn")}
          </a>
        </p>
      )}
    </Screen>
  );
}

/** On the settings screen: whether the email is checked, and a new link while it is not. */
export function VerifyPrompt(props: { me: Me }) {
  const { email } = props.me;
  const [problem, setProblem] = useState<Problem | null>(null);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  // An account made with a phone only has no email to check.
  if (!email) return null;
  if (props.me.email_verified !== false) {
    return props.me.email_verified ? <p>{t("verify.verified", { email })}</p> : null;
  }
  async function resend() {
    setBusy(true);
    try {
      await answer(api.POST("/v1/me/email-verification"));
      setProblem(null);
      setSent(true);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="notice" aria-labelledby="verify-title">
      <h2 id="verify-title">{t("verify.title")}</h2>
      <ProblemBox problem={problem} />
      <p>{t("verify.prompt", { email })}</p>
      {sent ? (
        <Done>{t("verify.resent", { email })}</Done>
      ) : (
        <button type="button" disabled={busy} onClick={() => void resend()}>
          {t("verify.resend")}
        </button>
      )}
    </section>
  );
}
