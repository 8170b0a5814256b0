// "My hours and money": a person's balance, their statement, a helper's earnings by month,
// giving hours into their neighbourhood's pot, and that pot. Read from the ledger (through
// booking's /ledger/ path); every amount is said in words, and which way it went too.
import { useState } from "preact/hooks";
import { answer, type Problem } from "../api/client";
import {
  type Balance,
  type CommunityView,
  type Earnings as EarningsView,
  type Gift,
  type Statement,
  type StatementLine,
  ledger,
  neighbourhoodOf,
} from "../api/ledger";
import type { Me } from "../api/views";
import { type LineAmount, direction, hoursText, lineAmount, monthText } from "../amounts";
import { language, t } from "../i18n";
import { useLoad } from "../load";
import { href } from "../router";
import { when } from "../time";
import { Done, Field, Loading, ProblemBox, Screen, problemOf } from "../ui";

/** An amount shown as people read it and said as a screen reader says it well. */
export function Amount(props: { value: LineAmount }) {
  const { shown, said } = props.value;
  if (shown === said) return <>{shown}</>;
  return (
    <>
      <span aria-hidden="true">{shown}</span>
      <span class="visually-hidden">{said}</span>
    </>
  );
}

/** Time credits in words: what the person may still receive, or how far they are behind. */
export function creditsText(credits: number): string {
  if (Math.round(credits * 60) === 0) return t("ledger.creditsNone");
  return credits > 0
    ? t("ledger.creditsToReceive", { hours: hoursText(credits) })
    : t("ledger.creditsOwed", { hours: hoursText(credits) });
}

/** Hours to give as typed: a whole number from 1 to 100, or null. */
export function giftHours(typed: string): number | null {
  const text = typed.trim();
  if (!/^\d{1,3}$/.test(text)) return null;
  const hours = Number(text);
  return hours >= 1 && hours <= 100 ? hours : null;
}

function useBalance() {
  return useLoad(() => answer<Balance>(ledger.GET("/v1/me/ledger")), []);
}

function useCommunity(me: Me) {
  const cell = neighbourhoodOf(me);
  return useLoad(
    () =>
      cell
        ? answer<CommunityView>(
            ledger.GET("/v1/neighbourhoods/{neighbourhood}/community", { params: { path: { neighbourhood: cell } } }),
          )
        : Promise.resolve(null),
    [cell],
  );
}

export function Ledger(props: { me: Me }) {
  const balance = useBalance();
  const helper = props.me.skills.length > 0;
  const b = balance.value;
  return (
    <Screen title={t("ledger.title")} back="/">
      <ProblemBox problem={balance.problem} />
      {!b && !balance.problem && <Loading />}
      {b && (
        <>
          <p>{t("ledger.intro")}</p>
          <h2>{t("ledger.hoursTitle")}</h2>
          <dl class="card">
            <dt>{t("ledger.given")}</dt>
            <dd>{hoursText(b.hours.given)}</dd>
            <dt>{t("ledger.received")}</dt>
            <dd>{hoursText(b.hours.received)}</dd>
            <dt>{t("ledger.giftedToPots")}</dt>
            <dd>{hoursText(b.hours.gifted_to_pots)}</dd>
            <dt>{t("ledger.credits")}</dt>
            <dd>{creditsText(b.hours.credits)}</dd>
          </dl>
          {b.money.length === 0 && <p>{t("ledger.noMoney")}</p>}
          {b.money.map((money) => (
            <div key={money.currency}>
              <h2>
                {b.money.length === 1 ? t("ledger.money") : t("ledger.moneyTitle", { currency: money.currency })}
              </h2>
              <dl class="card">
                <dt>{t("ledger.earned")}</dt>
                <dd>
                  <Amount value={lineAmount(money.currency, money.earned)} />
                </dd>
                <dt>{t("ledger.charged")}</dt>
                <dd>
                  <Amount value={lineAmount(money.currency, money.charged)} />
                </dd>
                <dt>{t("ledger.expensesBack")}</dt>
                <dd>
                  <Amount value={lineAmount(money.currency, money.expenses)} />
                </dd>
              </dl>
            </div>
          ))}
        </>
      )}
      <nav aria-label={t("ledger.title")}>
        <ul class="tasks">
          <li>
            <a class="button" href={href("/ledger/statement")}>
              {t("ledger.statement")}
            </a>
          </li>
          {helper && (
            <li>
              <a class="button" href={href("/ledger/earnings")}>
                {t("ledger.earnings")}
              </a>
            </li>
          )}
          <li>
            <a class="button" href={href("/ledger/give")}>
              {t("ledger.give")}
            </a>
          </li>
          <li>
            <a class="button" href={href("/ledger/pot")}>
              {t("ledger.pot")}
            </a>
          </li>
          <li>
            <a class="button" href={href("/ledger/expenses")}>
              {t("ledger.expenses")}
            </a>
          </li>
        </ul>
      </nav>
    </Screen>
  );
}

function Line(props: { line: StatementLine; zone: string }) {
  const { line } = props;
  return (
    <li class="card">
      <h2>{t(`ledger.kind.${line.kind}`)}</h2>
      <p>{when(line.occurred_at, props.zone, language())}</p>
      <p>
        <strong>{direction(line.amount)}:</strong> <Amount value={lineAmount(line.unit, line.amount)} />
      </p>
      {line.mode && <p>{t(`ledger.mode.${line.mode}`)}</p>}
      {line.kind === "correction" && line.memo && <p>{line.memo}</p>}
    </li>
  );
}

export function LedgerStatement(props: { me: Me }) {
  const first = useLoad(
    () => answer<Statement>(ledger.GET("/v1/me/ledger/statement", { params: { query: { limit: 50 } } })),
    [],
  );
  const [older, setOlder] = useState<StatementLine[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | null>(null);
  const cursor = next === undefined ? (first.value?.next_before ?? null) : next;
  const items = [...(first.value?.items ?? []), ...older];

  async function more() {
    if (cursor === null) return;
    try {
      const page = await answer<Statement>(
        ledger.GET("/v1/me/ledger/statement", { params: { query: { limit: 50, before: cursor } } }),
      );
      setOlder((shown) => [...shown, ...page.items]);
      setNext(page.next_before ?? null);
      setProblem(null);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }

  return (
    <Screen title={t("statement.title")} back="/ledger">
      <ProblemBox problem={problem ?? first.problem} />
      {!first.value && !first.problem && <Loading />}
      {first.value && items.length === 0 && <p>{t("statement.none")}</p>}
      <ul class="list">
        {items.map((line) => (
          <Line key={line.entry_id} line={line} zone={props.me.time_zone} />
        ))}
      </ul>
      {cursor !== null && first.value && (
        <button type="button" onClick={() => void more()}>
          {t("statement.more")}
        </button>
      )}
    </Screen>
  );
}

export function Earnings() {
  const loaded = useLoad(() => answer<EarningsView>(ledger.GET("/v1/me/ledger/earnings")), []);
  const months = [...(loaded.value?.months ?? [])].reverse();
  return (
    <Screen title={t("earnings.title")} back="/ledger">
      <ProblemBox problem={loaded.problem} />
      {!loaded.value && !loaded.problem && <Loading />}
      {loaded.value && months.length === 0 && <p>{t("earnings.none")}</p>}
      <ul class="list">
        {months.map((month) => (
          <li class="card" key={month.month}>
            <h2>{monthText(month.month)}</h2>
            <p>{t("earnings.hours", { hours: hoursText(month.hours_given) })}</p>
            {Object.entries(month.earned).map(([currency, amount]) => (
              <p key={currency}>
                {t("earnings.earned")} <Amount value={lineAmount(currency, amount)} />
              </p>
            ))}
          </li>
        ))}
      </ul>
    </Screen>
  );
}

export function Give(props: { me: Me }) {
  const community = useCommunity(props.me);
  const balance = useBalance();
  const [typed, setTyped] = useState("1");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [invalid, setInvalid] = useState(false);
  const [done, setDone] = useState("");
  const found = community.value;

  async function give(event: Event) {
    event.preventDefault();
    if (!found) return;
    const hours = giftHours(typed);
    setInvalid(hours === null);
    if (hours === null) {
      setProblem({
        status: 422,
        title: "",
        detail: t("give.fix"),
        errors: [{ field: t("give.hours"), reason: t("give.needHours") }],
      });
      return;
    }
    try {
      const gift = await answer<Gift>(
        ledger.POST("/v1/me/ledger/gifts", { body: { community_id: found.community_id, hours } }),
      );
      setProblem(null);
      setDone(t("give.done", { hours: hoursText(hours), pot: hoursText(gift.pot.hours) }));
      balance.reload();
    } catch (error) {
      setProblem(problemOf(error));
    }
  }

  const loading = community.value === undefined && !community.problem;
  return (
    <Screen title={t("give.title")} back="/ledger">
      <ProblemBox problem={problem ?? community.problem} />
      {done && <Done>{done}</Done>}
      {loading && <Loading />}
      {community.value === null && <p>{t("pot.unknown")}</p>}
      {found && !found.modes.includes("gifted") && <p>{t("give.notHere")}</p>}
      {found && found.modes.includes("gifted") && (
        <>
          <p>{t("give.intro", { community: found.community_id })}</p>
          {balance.value && <p>{t("give.have", { hours: hoursText(Math.max(0, balance.value.hours.credits)) })}</p>}
          <form onSubmit={(event) => void give(event)} noValidate>
            <Field
              id="give-hours"
              type="number"
              inputMode="numeric"
              min={1}
              max={100}
              step={1}
              label={t("give.hours")}
              hint={t("give.hint")}
              aria-invalid={invalid || undefined}
              value={typed}
              onInput={(event) => setTyped(event.currentTarget.value)}
            />
            <button class="primary" type="submit">
              {t("give.submit")}
            </button>
          </form>
        </>
      )}
      <p>
        <a href={href("/ledger/pot")}>{t("ledger.pot")}</a>
      </p>
    </Screen>
  );
}

export function PotScreen(props: { me: Me }) {
  const community = useCommunity(props.me);
  const found = community.value;
  return (
    <Screen title={t("pot.title")} back="/ledger">
      <ProblemBox problem={community.problem} />
      {found === undefined && !community.problem && <Loading />}
      {found === null && <p>{t("pot.unknown")}</p>}
      {found && (
        <>
          <p>{t("pot.community", { name: found.community_id })}</p>
          {found.modes.includes("gifted") ? (
            <dl class="card">
              <dt>{t("pot.now")}</dt>
              <dd>{hoursText(found.pot.hours)}</dd>
              <dt>{t("pot.given")}</dt>
              <dd>{hoursText(found.pot.given)}</dd>
              <dt>{t("pot.drawn")}</dt>
              <dd>{hoursText(found.pot.drawn)}</dd>
            </dl>
          ) : (
            <p>{t("pot.noGifts")}</p>
          )}
          <h2>{t("pot.how")}</h2>
          {found.modes.length === 0 && <p>{t("pot.none")}</p>}
          <ul>
            {found.modes.map((mode) => (
              <li key={mode}>{t(`ledger.mode.${mode}`)}</li>
            ))}
          </ul>
          {found.modes.includes("gifted") && (
            <p>
              {found.pot_rule === "allowance"
                ? t("pot.rule.allowance", { hours: hoursText(found.monthly_allowance_hours) })
                : t("pot.rule.approval")}
            </p>
          )}
          {found.modes.includes("gifted") && (
            <a class="button primary" href={href("/ledger/give")}>
              {t("ledger.give")}
            </a>
          )}
        </>
      )}
    </Screen>
  );
}
