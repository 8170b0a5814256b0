// The few building blocks every screen is made of: a titled screen that takes the focus when
// it opens (a screen reader says where the person is), labelled fields with their hints and
// errors tied to them, and a problem box that says what went wrong in plain words.
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { ApiProblem, type Problem } from "./api/client";
import { t } from "./i18n";
import { href } from "./router";

export function Screen(props: { title: string; children: ComponentChildren; back?: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · Kith`;
    heading.current?.focus();
  }, [props.title]);
  return (
    <section aria-labelledby="screen-title">
      {props.back !== undefined && (
        <p>
          <a class="back" href={href(props.back)}>
            <span aria-hidden="true">← </span>
            {t("app.back")}
          </a>
        </p>
      )}
      <h1 id="screen-title" tabIndex={-1} ref={heading}>
        {props.title}
      </h1>
      {props.children}
    </section>
  );
}

export function problemOf(error: unknown): Problem {
  if (error instanceof ApiProblem) return error.problem;
  return { status: 0, title: "offline", detail: "" };
}

/** What went wrong, announced at once by screen readers (role="alert"). */
export function ProblemBox(props: { problem: Problem | null; fallback?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (props.problem) box.current?.focus();
  }, [props.problem]);
  if (!props.problem) return null;
  const { status, detail, errors, retryAfterS } = props.problem;
  const text =
    status === 0 ? t("app.offline") : props.fallback && !detail ? props.fallback : detail;
  return (
    <div class="problem" role="alert" tabIndex={-1} ref={box}>
      <p>
        <strong>{t("app.problem")}: </strong>
        {text}
      </p>
      {errors && errors.length > 0 && (
        <ul>
          {errors.map((error) => (
            <li key={error.field}>{t("app.problemField", error)}</li>
          ))}
        </ul>
      )}
      {retryAfterS !== undefined && <p>{t("app.retryAfter", { seconds: retryAfterS })}</p>}
    </div>
  );
}

export function Done(props: { children: ComponentChildren }) {
  return (
    <div class="done" role="status">
      <p>
        <span aria-hidden="true">✓ </span>
        {props.children}
      </p>
    </div>
  );
}

type InputProps = JSX.InputHTMLAttributes<HTMLInputElement> & {
  id: string;
  label: string;
  hint?: string;
  optional?: boolean;
};

export function Field({ id, label, hint, optional, ...input }: InputProps) {
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div class="field">
      <label for={id}>
        {label}
        {optional && <span class="optional"> {t("app.optional")}</span>}
      </label>
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      <input id={id} name={id} aria-describedby={hintId} required={!optional} {...input} />
    </div>
  );
}

export function TextArea(props: {
  id: string;
  label: string;
  hint?: string;
  value: string;
  onInput: (value: string) => void;
  optional?: boolean;
  maxLength: number;
}) {
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  return (
    <div class="field">
      <label for={props.id}>
        {props.label}
        {props.optional && <span class="optional"> {t("app.optional")}</span>}
      </label>
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      <textarea
        id={props.id}
        name={props.id}
        rows={4}
        maxLength={props.maxLength}
        required={!props.optional}
        aria-describedby={hintId}
        value={props.value}
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
    </div>
  );
}

export function Choice<T extends string>(props: {
  name: string;
  legend: string;
  options: readonly { value: T; label: string }[];
  value: T;
  onChange: (value: T) => void;
}) {
  return (
    <fieldset class="choice">
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <div class="option" key={option.value}>
          <input
            type="radio"
            id={`${props.name}-${option.value}`}
            name={props.name}
            value={option.value}
            checked={props.value === option.value}
            onChange={() => props.onChange(option.value)}
          />
          <label for={`${props.name}-${option.value}`}>{option.label}</label>
        </div>
      ))}
    </fieldset>
  );
}

export function Select(props: {
  id: string;
  label: string;
  value: string;
  options: readonly { value: string; label: string }[];
  onChange: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        name={props.id}
        value={props.value}
        onChange={(event) => props.onChange(event.currentTarget.value)}
      >
        {props.options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Loading() {
  return (
    <p role="status" class="loading">
      {t("app.loading")}
    </p>
  );
}
