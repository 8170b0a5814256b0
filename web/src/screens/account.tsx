// Getting in: welcome, sign in, and making an account (as a helper, a neighbour or both).
import { useState } from "preact/hooks";
import { answer, api, idempotencyKey, type Problem } from "../api/client";
import { SKILLS, type Session, type Skill } from "../api/views";
import { accountName } from "../contact";
import { language, t } from "../i18n";
import { go, href } from "../router";
import { session } from "../session";
import { browserZone, timeZones } from "../time";
import { Choice, Field, ProblemBox, Screen, Select, problemOf } from "../ui";

export function Welcome() {
  return (
    <Screen title={t("welcome.title")}>
      <p class="lead">{t("welcome.intro")}</p>
      <nav class="actions" aria-label={t("welcome.title")}>
        <a class="button primary" href={href("/sign-in")}>
          {t("welcome.signIn")}
        </a>
        <a class="button" href={href("/sign-up")}>
          {t("welcome.signUp")}
        </a>
      </nav>
    </Screen>
  );
}

/** The refusal shown when what was typed is neither an email nor a mobile number. */
function notAnAccount(): Problem {
  return {
    status: 422,
    title: "",
    detail: t("account.fix"),
    errors: [{ field: t("account.label"), reason: t("account.bad") }],
  };
}

/** The field that takes an email address or a mobile phone number. */
function AccountField(props: { value: string; onInput: (value: string) => void }) {
  return (
    <Field
      id="account"
      type="text"
      autocomplete="username"
      autoCapitalize="none"
      spellcheck={false}
      label={t("account.label")}
      hint={t("account.hint")}
      maxLength={254}
      value={props.value}
      onInput={(event) => props.onInput(event.currentTarget.value)}
    />
  );
}

export function SignIn() {
  const [account, setAccount] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const named = accountName(account);
    if (named === null) {
      setProblem(notAnAccount());
      return;
    }
    setBusy(true);
    try {
      const opened = await answer<Session>(
        api.POST("/v1/sessions", {
          body: { ...named, password },
          params: { header: idempotencyKey() },
        }),
      );
      session.start(opened.token, opened.person_id);
      go("/");
    } catch (error) {
      const found = problemOf(error);
      setProblem(found.status === 401 || found.status === 403 ? { ...found, detail: t("signIn.wrong") } : found);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Screen title={t("signIn.title")} back="/">
      <ProblemBox problem={problem} />
      <form onSubmit={submit} noValidate={false}>
        <AccountField value={account} onInput={setAccount} />
        <Field
          id="password"
          type="password"
          autocomplete="current-password"
          label={t("signIn.password")}
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <button class="primary" type="submit" disabled={busy}>
          {t("signIn.submit")}
        </button>
      </form>
      <p>
        <a href={href("/forgot")}>{t("forgot.link")}</a>
      </p>
      <p>
        <a href={href("/sign-up")}>{t("signIn.noAccount")}</a>
      </p>
    </Screen>
  );
}

export function SignUp() {
  const [name, setName] = useState("");
  const [account, setAccount] = useState("");
  const [password, setPassword] = useState("");
  const [showPassword, setShowPassword] = useState(false);
  // One account both asks and helps: a helper is someone who offers skills.
  const [role, setRole] = useState<"ask" | "help" | "both">("ask");
  const helps = role !== "ask";
  const [skills, setSkills] = useState<Skill[]>([]);
  const [address, setAddress] = useState("");
  const [phone, setPhone] = useState("");
  const [lat, setLat] = useState("");
  const [lng, setLng] = useState("");
  const [located, setLocated] = useState<"" | "found" | "failed">("");
  const [zone, setZone] = useState(browserZone());
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  function findMe() {
    if (!navigator.geolocation) {
      setLocated("failed");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setLat(position.coords.latitude.toFixed(5));
        setLng(position.coords.longitude.toFixed(5));
        setLocated("found");
      },
      () => setLocated("failed"),
      { timeout: 15000 },
    );
  }

  function toggle(skill: Skill, on: boolean) {
    setSkills((now) => (on ? [...now, skill] : now.filter((s) => s !== skill)));
  }

  async function submit(event: Event) {
    event.preventDefault();
    // An email or a mobile number: someone with a phone only is told everything by text.
    const named = accountName(account);
    if (named === null) {
      setProblem(notAnAccount());
      return;
    }
    setBusy(true);
    try {
      const created = await answer<Session>(
        api.POST("/v1/people", {
          body: {
            display_name: name,
            ...named,
            password,
            home: { lat: Number(lat), lng: Number(lng), address, phone: phone || null },
            time_zone: zone as never,
            skills: helps ? skills : [],
            // The language chosen here is the person's own: Kith writes to them in it.
            languages: [language()],
          },
          params: { header: idempotencyKey() },
        }),
      );
      session.start(created.token, created.person_id);
      go(helps ? "/hours" : "/");
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Screen title={t("signUp.title")} back="/">
      <ProblemBox problem={problem} />
      <form onSubmit={submit}>
        <Field
          id="name"
          autocomplete="name"
          label={t("signUp.name")}
          maxLength={80}
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
        />
        <AccountField value={account} onInput={setAccount} />
        <Field
          id="password"
          type={showPassword ? "text" : "password"}
          autocomplete="new-password"
          label={t("signUp.password")}
          hint={t("signUp.passwordHint")}
          minLength={8}
          maxLength={256}
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <div class="option">
          <input
            type="checkbox"
            id="show-password"
            checked={showPassword}
            onChange={(event) => setShowPassword(event.currentTarget.checked)}
          />
          <label for="show-password">{t("signUp.showPassword")}</label>
        </div>
        <Choice
          name="role"
          legend={t("signUp.wantTo")}
          value={role}
          options={[
            { value: "ask", label: t("signUp.askHelp") },
            { value: "help", label: t("signUp.giveHelp") },
            { value: "both", label: t("signUp.both") },
          ]}
          onChange={setRole}
        />
        {helps && (
          <fieldset class="choice">
            <legend>{t("signUp.skills")}</legend>
            {SKILLS.map((skill) => (
              <div class="option" key={skill}>
                <input
                  type="checkbox"
                  id={`skill-${skill}`}
                  checked={skills.includes(skill)}
                  onChange={(event) => toggle(skill, event.currentTarget.checked)}
                />
                <label for={`skill-${skill}`}>{t(`skill.${skill}`)}</label>
              </div>
            ))}
          </fieldset>
        )}
        <Field
          id="address"
          autocomplete="street-address"
          label={t("signUp.address")}
          hint={t("signUp.addressHint")}
          maxLength={300}
          value={address}
          onInput={(event) => setAddress(event.currentTarget.value)}
        />
        <Field
          id="phone"
          type="tel"
          autocomplete="tel"
          label={t("signUp.phone")}
          optional
          maxLength={40}
          value={phone}
          onInput={(event) => setPhone(event.currentTarget.value)}
        />
        <fieldset class="choice">
          <legend>{t("signUp.where")}</legend>
          <p class="hint">{t("signUp.whereHint")}</p>
          <button type="button" onClick={findMe}>
            {t("signUp.findMe")}
          </button>
          <p role="status">
            {located === "found" && t("signUp.found", { lat, lng })}
            {located === "failed" && t("signUp.notFound")}
          </p>
          <Field
            id="lat"
            inputMode="decimal"
            label={t("signUp.lat")}
            value={lat}
            onInput={(event) => setLat(event.currentTarget.value)}
          />
          <Field
            id="lng"
            inputMode="decimal"
            label={t("signUp.lng")}
            value={lng}
            onInput={(event) => setLng(event.currentTarget.value)}
          />
        </fieldset>
        <Select
          id="time-zone"
          label={t("signUp.timeZone")}
          value={zone}
          options={zoneOptions(zone)}
          onChange={setZone}
        />
        <button class="primary" type="submit" disabled={busy}>
          {t("signUp.submit")}
        </button>
      </form>
      <p>
        <a href={href("/sign-in")}>{t("signIn.title")}</a>
      </p>
    </Screen>
  );
}

function zoneOptions(current: string): { value: string; label: string }[] {
  // The browser's list leaves out aliases such as "UTC": the person's own zone is always offered.
  const names = timeZones();
  const all = names.includes(current) ? names : [current, ...names];
  return all.map((name) => ({ value: name, label: name.replace(/_/g, " ") }));
}
