// Spending on visits: a helper records what they spent for a neighbour (how much, what for,
// a photo of the receipt); the neighbour says whether it is right; the ledger pays it back
// once they confirm. Both see where each one stands, in words.
import { useState } from "preact/hooks";
import { answer, api, type Problem } from "../api/client";
import { type Expense, type Expenses as ExpensesView, ledger } from "../api/ledger";
import type { Booking, Me, Page } from "../api/views";
import { lineAmount, moneyText, parseMoney } from "../amounts";
import { language, t } from "../i18n";
import { useLoad } from "../load";
import { href } from "../router";
import { when } from "../time";
import { Choice, Done, Field, Loading, ProblemBox, Screen, Select, problemOf } from "../ui";
import { Amount } from "./ledger";

/** The photo types and size the ledger keeps (``KITH_LEDGER_RECEIPT_MAX_BYTES``). */
export const RECEIPT_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export const RECEIPT_MAX_BYTES = 2_000_000;

export interface ExpenseDraft {
  bookingId: string;
  amount: string;
  whatFor: string;
  receipt: { type: string; size: number } | null;
}

/** Miles as typed ("12", "3.5"), to a tenth of a mile; null unless from 0.1 to 500. */
export function parseMiles(typed: string): number | null {
  const text = typed.trim();
  if (!/^\d{1,3}(\.\d)?$/.test(text)) return null;
  const miles = Number(text);
  return miles >= 0.1 && miles <= 500 ? miles : null;
}

/** What is wrong with a lift's miles as typed, naming the field. */
export function mileageErrors(bookingId: string, miles: string): { field: string; reason: string }[] {
  const errors: { field: string; reason: string }[] = [];
  if (!bookingId) errors.push({ field: t("record.visit"), reason: t("record.needVisit") });
  if (parseMiles(miles) === null) errors.push({ field: t("record.miles"), reason: t("record.needMiles") });
  return errors;
}

/** A receipt photo as a data: address an <img> may show (the app's policy allows no other). */
async function dataUrlOf(blob: Blob): Promise<string> {
  return `data:${blob.type};base64,${await base64Of(blob)}`;
}

/** The receipt photo of an expense, fetched when the person asks to see it. */
function ReceiptPhoto(props: { expenseId: string; describedBy: string }) {
  const [src, setSrc] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  async function show() {
    try {
      const photo = await answer<Blob>(
        ledger.GET("/v1/me/ledger/expenses/{expense_id}/receipt", {
          params: { path: { expense_id: props.expenseId } },
          parseAs: "blob",
        }),
      );
      setProblem(null);
      setSrc(photo.type.startsWith("image/") ? await dataUrlOf(photo) : "");
    } catch (error) {
      setProblem(problemOf(error));
    }
  }

  return (
    <>
      <ProblemBox problem={problem} />
      {src === null && (
        <button type="button" aria-describedby={props.describedBy} onClick={() => void show()}>
          {t("expenses.seeReceipt")}
        </button>
      )}
      {src === "" && <p>{t("expenses.receiptNotPhoto")}</p>}
      {src && <img class="receipt" src={src} alt={t("expenses.receiptAlt")} />}
    </>
  );
}

/** What is wrong with an expense as typed, each naming its field by its label. */
export function expenseErrors(draft: ExpenseDraft): { field: string; reason: string }[] {
  const errors: { field: string; reason: string }[] = [];
  if (!draft.bookingId) errors.push({ field: t("record.visit"), reason: t("record.needVisit") });
  if (parseMoney(draft.amount) === null) errors.push({ field: t("record.amount"), reason: t("record.needAmount") });
  if (!draft.whatFor.trim()) errors.push({ field: t("record.whatFor"), reason: t("record.needWhat") });
  const receipt = draft.receipt;
  if (receipt && (!(RECEIPT_TYPES as readonly string[]).includes(receipt.type) || receipt.size > RECEIPT_MAX_BYTES)) {
    errors.push({ field: t("record.receipt"), reason: t("record.badReceipt") });
  }
  return errors;
}

/** A file's bytes in base64, as the ledger takes a receipt. */
async function base64Of(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  const chunk = 0x8000;
  for (let at = 0; at < bytes.length; at += chunk) {
    binary += String.fromCharCode(...bytes.subarray(at, at + chunk));
  }
  return btoa(binary);
}

export function Expenses(props: { me: Me }) {
  const [tick, setTick] = useState(0);
  const loaded = useLoad(
    () => answer<ExpensesView>(ledger.GET("/v1/me/ledger/expenses", { params: { query: { limit: 50 } } })),
    [tick],
  );
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  const helper = props.me.skills.length > 0;
  const items = loaded.value?.items ?? [];

  async function decide(expense: Expense, decision: "confirm" | "dispute") {
    try {
      await answer(
        ledger.POST("/v1/me/ledger/expenses/{expense_id}", {
          params: { path: { expense_id: expense.expense_id } },
          body: { decision },
        }),
      );
      setProblem(null);
      setDone(decision === "confirm" ? t("expenses.confirmed") : t("expenses.disputed"));
    } catch (error) {
      setProblem(problemOf(error));
    }
    setTick((n) => n + 1);
  }

  return (
    <Screen title={t("expenses.title")} back="/ledger">
      <p>{t("expenses.intro")}</p>
      <ProblemBox problem={problem ?? loaded.problem} />
      {done && <Done>{done}</Done>}
      {helper && (
        <p>
          <a class="button primary" href={href("/ledger/expenses/new")}>
            {t("expenses.record")}
          </a>
        </p>
      )}
      {!loaded.value && !loaded.problem && <Loading />}
      {loaded.value && items.length === 0 && <p>{t("expenses.none")}</p>}
      <ul class="list">
        {items.map((expense) => {
          const mine = expense.helper_id === props.me.person_id;
          const heading = `expense-${expense.expense_id}`;
          return (
            <li class="card" key={expense.expense_id}>
              <h2 id={heading}>
                {mine ? t("expenses.mine") : t("expenses.forYou")}:{" "}
                <Amount value={lineAmount(expense.currency, expense.amount)} />
              </h2>
              <p>
                {expense.kind === "mileage"
                  ? t("expenses.mileage", { miles: expense.miles ?? 0 })
                  : expense.what_for}
              </p>
              {expense.recorded_at && <p>{when(expense.recorded_at, props.me.time_zone, language())}</p>}
              <p class="status">{t(`expenses.status.${expense.status}`)}</p>
              <p>{expense.has_receipt ? t("expenses.receipt") : t("expenses.noReceipt")}</p>
              {expense.has_receipt && <ReceiptPhoto expenseId={expense.expense_id} describedBy={heading} />}
              {!mine && expense.status === "recorded" && (
                <>
                  <p>{t("expenses.ask")}</p>
                  <div class="actions">
                    <button
                      class="primary"
                      type="button"
                      aria-describedby={heading}
                      onClick={() => void decide(expense, "confirm")}
                    >
                      {t("expenses.confirm")}
                    </button>
                    <button type="button" aria-describedby={heading} onClick={() => void decide(expense, "dispute")}>
                      {t("expenses.dispute")}
                    </button>
                  </div>
                </>
              )}
            </li>
          );
        })}
      </ul>
    </Screen>
  );
}

export function RecordExpense(props: { me: Me }) {
  // Spending may be recorded during a visit as well as after it: every visit of theirs as a
  // helper that was not called off, the latest first.
  const visits = useLoad(
    () => answer<Page<Booking>>(api.GET("/v1/bookings", { params: { query: { limit: 50 } } })),
    [],
  );
  const mine = (visits.value?.items ?? [])
    .filter((visit) => visit.side === "helper" && visit.status !== "cancelled")
    .sort((a, b) => b.starts_at.localeCompare(a.starts_at));
  const [bookingId, setBookingId] = useState("");
  const [amount, setAmount] = useState("");
  const [whatFor, setWhatFor] = useState("");
  const [photo, setPhoto] = useState<File | null>(null);
  const [kind, setKind] = useState<"money" | "miles">("money");
  const [miles, setMiles] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [bad, setBad] = useState<string[]>([]);
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  const chosen = bookingId || mine[0]?.booking_id || "";
  const zone = props.me.time_zone;
  // A lift may be paid by the mile, at the community's rate, instead of what was spent.
  const lift = mine.find((visit) => visit.booking_id === chosen)?.skill === "lift";
  const byMiles = lift && kind === "miles";

  async function recordMiles() {
    const errors = mileageErrors(chosen, miles);
    setBad(errors.map((error) => error.field));
    if (errors.length > 0) {
      setProblem({ status: 422, title: "", detail: t("record.fix"), errors });
      return;
    }
    try {
      const recorded = await answer<Expense>(
        ledger.POST("/v1/me/ledger/mileage", { body: { booking_id: chosen, miles: parseMiles(miles) ?? 0 } }),
      );
      setProblem(null);
      setDone(t("record.milesDone", { miles: recorded.miles ?? miles, amount: moneyText(recorded.amount, recorded.currency) }));
      setMiles("");
    } catch (error) {
      setProblem(problemOf(error));
    }
  }

  async function record(event: Event) {
    event.preventDefault();
    if (byMiles) return recordMiles();
    const draft: ExpenseDraft = {
      bookingId: chosen,
      amount,
      whatFor,
      receipt: photo && { type: photo.type, size: photo.size },
    };
    const errors = expenseErrors(draft);
    setBad(errors.map((error) => error.field));
    if (errors.length > 0) {
      setProblem({ status: 422, title: "", detail: t("record.fix"), errors });
      return;
    }
    const minor = parseMoney(amount) ?? 0;
    setBusy(true);
    try {
      const receipt = photo
        ? {
            content_type: photo.type as (typeof RECEIPT_TYPES)[number],
            data_base64: await base64Of(photo),
          }
        : null;
      const recorded = await answer<Expense>(
        ledger.POST("/v1/me/ledger/expenses", {
          body: { booking_id: chosen, amount: minor, what_for: whatFor.trim(), receipt },
        }),
      );
      setProblem(null);
      setDone(t("record.done", { amount: moneyText(recorded.amount, recorded.currency), what: recorded.what_for }));
      setAmount("");
      setWhatFor("");
      setPhoto(null);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  }

  const invalid = (label: string) => bad.includes(label) || undefined;
  return (
    <Screen title={t("record.title")} back="/ledger/expenses">
      <ProblemBox problem={problem ?? visits.problem} />
      {done && (
        <Done>
          {done} <a href={href("/ledger/expenses")}>{t("expenses.title")}</a>
        </Done>
      )}
      {!visits.value && !visits.problem && <Loading />}
      {visits.value && mine.length === 0 && <p>{t("record.noVisits")}</p>}
      {mine.length > 0 && (
        <form onSubmit={(event) => void record(event)} noValidate>
          <Select
            id="expense-visit"
            label={t("record.visit")}
            value={chosen}
            options={mine.map((visit) => ({
              value: visit.booking_id,
              label: `${t(`skill.${visit.skill}`)}: ${when(visit.starts_at, zone, language())}`,
            }))}
            onChange={setBookingId}
          />
          {lift && (
            <Choice
              name="expense-kind"
              legend={t("record.kind")}
              options={[
                { value: "money", label: t("record.kindMoney") },
                { value: "miles", label: t("record.kindMiles") },
              ]}
              value={kind}
              onChange={setKind}
            />
          )}
          {byMiles && (
            <Field
              id="expense-miles"
              inputMode="decimal"
              autocomplete="off"
              label={t("record.miles")}
              hint={t("record.milesHint")}
              aria-invalid={invalid(t("record.miles"))}
              value={miles}
              onInput={(event) => setMiles(event.currentTarget.value)}
            />
          )}
          {!byMiles && (
            <>
              <Field
                id="expense-amount"
                inputMode="decimal"
                autocomplete="off"
                label={t("record.amount")}
                hint={t("record.amountHint")}
                aria-invalid={invalid(t("record.amount"))}
                value={amount}
                onInput={(event) => setAmount(event.currentTarget.value)}
              />
              <Field
                id="expense-what"
                autocomplete="off"
                maxLength={200}
                label={t("record.whatFor")}
                hint={t("record.whatForHint")}
                aria-invalid={invalid(t("record.whatFor"))}
                value={whatFor}
                onInput={(event) => setWhatFor(event.currentTarget.value)}
              />
              <Field
                id="expense-receipt"
                type="file"
                optional
                accept={RECEIPT_TYPES.join(",")}
                capture="environment"
                label={t("record.receipt")}
                hint={t("record.receiptHint")}
                aria-invalid={invalid(t("record.receipt"))}
                onChange={(event) => setPhoto(event.currentTarget.files?.[0] ?? null)}
              />
            </>
          )}
          <button class="primary" type="submit" disabled={busy}>
            {t("record.submit")}
          </button>
        </form>
      )}
    </Screen>
  );
}
