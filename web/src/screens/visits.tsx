// Visits on either side: the list, one visit with what can be done with it now, and a screen
// for each of those tasks (cancel, change the time, the other person did not come).
import { useState } from "preact/hooks";
import { answer, api, idempotencyKey, type Problem } from "../api/client";
import type { Booking, Me, Page } from "../api/views";
import { language, t } from "../i18n";
import { useTopic } from "../live";
import { useLoad } from "../load";
import { href } from "../router";
import { hh, localParts, startsAt, when } from "../time";
import { Done, Field, Loading, ProblemBox, Screen, Select, TextArea, problemOf } from "../ui";

function other(booking: Booking): string {
  return (booking.side === "helper" ? booking.neighbour : booking.helper).display_name ?? "";
}

function VisitList(props: { id: string; me: Me; items: Booking[] }) {
  const lang = language();
  if (props.items.length === 0) return <p id={props.id}>{t("visits.none")}</p>;
  return (
    <ul class="list" id={props.id}>
      {props.items.map((booking) => (
        <li class="card" key={booking.booking_id} data-booking-id={booking.booking_id}>
          <h3>
            {t(`skill.${booking.skill}`)}: {when(booking.starts_at, props.me.time_zone, lang)}
          </h3>
          <p>
            {booking.side === "helper"
              ? t("visits.youHelp", { name: other(booking) })
              : t("visits.helpsYou", { name: other(booking) })}
          </p>
          <p class="status">{t(`visits.status.${booking.status}`)}</p>
          <a class="button" href={href(`/visit/${booking.booking_id}`)}>
            {t("visits.open")}
            <span class="visually-hidden">: {when(booking.starts_at, props.me.time_zone, lang)}</span>
          </a>
        </li>
      ))}
    </ul>
  );
}

async function visitsAhead(): Promise<Booking[]> {
  const found: Booking[] = [];
  let offset = 0;
  // Soonest first, a page at a time: a helper with a few weekly series has more than a page
  // of visits in the six weeks booked ahead.
  for (let page = 0; page < 20; page += 1) {
    const next = await answer<Page<Booking>>(
      api.GET("/v1/bookings", { params: { query: { when: "upcoming", limit: 200, offset } } }),
    );
    found.push(...next.items);
    if (next.next_offset == null) break;
    offset = next.next_offset;
  }
  return found;
}

export function Visits(props: { me: Me }) {
  const changed = useTopic("visits");
  const upcoming = useLoad(visitsAhead, [changed]);
  const past = useLoad(
    () => answer<Page<Booking>>(api.GET("/v1/bookings", { params: { query: { when: "past", limit: 20 } } })),
    [changed],
  );
  return (
    <Screen title={t("visits.title")} back="/">
      <ProblemBox problem={upcoming.problem ?? past.problem} />
      <h2>{t("visits.upcoming")}</h2>
      {upcoming.value ? <VisitList id="upcoming" me={props.me} items={upcoming.value} /> : <Loading />}
      <h2>{t("visits.past")}</h2>
      {past.value ? <VisitList id="past" me={props.me} items={past.value.items} /> : <Loading />}
    </Screen>
  );
}

function useBooking(id: string, extra: unknown[] = []) {
  const changed = useTopic("visits");
  return useLoad(
    () => answer<Booking>(api.GET("/v1/bookings/{booking_id}", { params: { path: { booking_id: id } } })),
    [id, changed, ...extra],
  );
}

export function Visit(props: { me: Me; bookingId: string }) {
  const [acted, setActed] = useState(0);
  const loaded = useBooking(props.bookingId, [acted]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const booking = loaded.value;
  const lang = language();
  const zone = props.me.time_zone;
  const path = { params: { path: { booking_id: props.bookingId } } };

  async function act(call: () => Promise<{ data?: unknown; error?: unknown; response: Response }>, said: string) {
    setDone(null);
    try {
      await answer(call());
      setProblem(null);
      setDone(said);
    } catch (error) {
      setProblem(problemOf(error));
    }
    setActed((n) => n + 1);
  }

  if (!booking) {
    return (
      <Screen title={t("visit.title")} back="/visits">
        <ProblemBox problem={loaded.problem} />
        <Loading />
      </Screen>
    );
  }
  const helper = booking.side === "helper";
  const party = helper ? booking.neighbour : booking.helper;
  const ahead = booking.status === "confirmed";
  const proposal = booking.proposed_reschedule;
  const proposedByMe = proposal?.proposed_by === booking.side;
  const finished = booking.status === "completed";
  return (
    <Screen title={t("visit.title")} back="/visits">
      <ProblemBox problem={problem} />
      {done && <Done>{done}</Done>}
      <dl class="card">
        <dt>{t("visit.what")}</dt>
        <dd>{t(`skill.${booking.skill}`)}</dd>
        <dt>{t("visit.when")}</dt>
        <dd>
          {when(booking.starts_at, zone, lang)} ({t("ask.hoursValue", { count: booking.hours })})
        </dd>
        <dt>{t("visit.with")}</dt>
        <dd>{party.display_name}</dd>
        <dt>{t("visit.status")}</dt>
        <dd class="status" id="visit-status">
          {t(`visits.status.${booking.status}`)}
        </dd>
        {party.address && (
          <>
            <dt>{t("visit.address")}</dt>
            <dd id="visit-address">{party.address}</dd>
          </>
        )}
        {party.phone && (
          <>
            <dt>{t("visit.phone")}</dt>
            <dd>
              <a href={`tel:${party.phone}`}>{party.phone}</a>
            </dd>
          </>
        )}
        {party.accessibility_notes && (
          <>
            <dt>{t("visit.access")}</dt>
            <dd>{party.accessibility_notes}</dd>
          </>
        )}
        {booking.notes && (
          <>
            <dt>{t("visit.notes", { name: party.display_name ?? "" })}</dt>
            <dd>{booking.notes}</dd>
          </>
        )}
      </dl>
      {helper && ahead && !party.address && <p>{t("visit.addressLater")}</p>}
      {proposal && (
        <div class="notice" role="status">
          <p>
            {proposedByMe
              ? t("visit.youProposed", { when: when(proposal.starts_at, zone, lang) })
              : t("visit.proposed", { name: party.display_name ?? "", when: when(proposal.starts_at, zone, lang) })}
          </p>
          {!proposedByMe && (
            <div class="actions">
              <button class="primary" type="button" onClick={() => void act(() => api.POST("/v1/bookings/{booking_id}/reschedule/confirm", path), t("visit.moved"))}>
                {t("visit.accept")}
              </button>
              <button type="button" onClick={() => void act(() => api.POST("/v1/bookings/{booking_id}/reschedule/decline", path), t("visit.kept"))}>
                {t("visit.refuse")}
              </button>
            </div>
          )}
        </div>
      )}
      {booking.status === "checked_in" && helper && <p>{t("visit.checkedIn")}</p>}
      <div class="actions">
        {helper && ahead && (
          <button class="primary" type="button" onClick={() => void act(() => api.POST("/v1/bookings/{booking_id}/check-in", path), t("visit.checkedIn"))}>
            {t("visit.checkIn")}
          </button>
        )}
        {helper && booking.status === "checked_in" && (
          <button class="primary" type="button" onClick={() => void act(() => api.POST("/v1/bookings/{booking_id}/check-out", path), t("visit.checkedOut"))}>
            {t("visit.checkOut")}
          </button>
        )}
        {finished && (
          <a class="button primary" href={href(`/visit/${booking.booking_id}/after`)}>
            {t("visit.seeAgain")}
          </a>
        )}
        {ahead && !proposal && (
          <a class="button" href={href(`/visit/${booking.booking_id}/reschedule`)}>
            {t("visit.reschedule")}
          </a>
        )}
        {ahead && (
          <a class="button" href={href(`/visit/${booking.booking_id}/cancel`)}>
            {t("visit.cancel")}
          </a>
        )}
        {/* A no-show can be told once the visit was due to start, until someone checks in. */}
        {ahead && new Date(booking.starts_at).getTime() <= Date.now() && (
          <a class="button" href={href(`/visit/${booking.booking_id}/no-show`)}>
            {t("visit.noShow")}
          </a>
        )}
        <a class="button" href={href(`/concern?about=${party.person_id}&booking=${booking.booking_id}`)}>
          {t("visit.concern")}
        </a>
      </div>
    </Screen>
  );
}

export function CancelVisit(props: { bookingId: string }) {
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    try {
      await answer(
        api.POST("/v1/bookings/{booking_id}/cancel", {
          params: { path: { booking_id: props.bookingId } },
          body: { reason },
        }),
      );
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <Screen title={t("cancel.title")} back={`/visit/${props.bookingId}`}>
      <ProblemBox problem={problem} />
      {done ? (
        <Done>{t("cancel.done")}</Done>
      ) : (
        <form onSubmit={submit}>
          <TextArea id="reason" label={t("cancel.reason")} maxLength={500} value={reason} onInput={setReason} />
          <button class="danger" type="submit">
            {t("cancel.submit")}
          </button>
        </form>
      )}
    </Screen>
  );
}

export function Reschedule(props: { me: Me; bookingId: string }) {
  const loaded = useBooking(props.bookingId);
  const zone = props.me.time_zone;
  const [day, setDay] = useState("");
  const [hour, setHour] = useState<number | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  const booking = loaded.value;
  if (!booking) return <Loading />;
  const current = localParts(new Date(booking.starts_at), zone);
  const chosenDay = day || current.day;
  const chosenHour = hour ?? current.hour;
  async function submit(event: Event) {
    event.preventDefault();
    try {
      await answer(
        api.POST("/v1/bookings/{booking_id}/reschedule", {
          params: { path: { booking_id: props.bookingId }, header: idempotencyKey() },
          body: { starts_at: startsAt(chosenDay, chosenHour, zone) },
        }),
      );
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <Screen title={t("reschedule.title")} back={`/visit/${props.bookingId}`}>
      <ProblemBox problem={problem} />
      {done ? (
        <Done>{t("reschedule.sent")}</Done>
      ) : (
        <form onSubmit={submit}>
          <p>{t("reschedule.intro")}</p>
          <Field id="day" type="date" label={t("ask.day")} value={chosenDay} onInput={(e) => setDay(e.currentTarget.value)} />
          <Select
            id="hour"
            label={t("ask.time")}
            value={String(chosenHour)}
            options={Array.from({ length: 24 }, (_, h) => ({ value: String(h), label: hh(h) }))}
            onChange={(value) => setHour(Number(value))}
          />
          <button class="primary" type="submit">
            {t("reschedule.submit")}
          </button>
        </form>
      )}
    </Screen>
  );
}

export function NoShow(props: { bookingId: string }) {
  const [note, setNote] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    try {
      await answer(
        api.POST("/v1/bookings/{booking_id}/no-show", {
          params: { path: { booking_id: props.bookingId } },
          body: { note: note.trim() || null },
        }),
      );
      setDone(true);
    } catch (error) {
      setProblem(problemOf(error));
    }
  }
  return (
    <Screen title={t("noShow.title")} back={`/visit/${props.bookingId}`}>
      <ProblemBox problem={problem} />
      {done ? (
        <Done>{t("noShow.done")}</Done>
      ) : (
        <form onSubmit={submit}>
          <TextArea id="note" label={t("noShow.note")} optional maxLength={500} value={note} onInput={setNote} />
          <button class="primary" type="submit">
            {t("noShow.submit")}
          </button>
        </form>
      )}
    </Screen>
  );
}
