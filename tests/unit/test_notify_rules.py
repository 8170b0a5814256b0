"""Notify's rules without a broker: reminders, retries, language, dates, templates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.notify.adapters.templates import TemplateFolder
from services.notify.domain.notices import (
    LINKS,
    WELFARE,
    Kind,
    ReminderWindows,
    Visit,
    quiet_until,
    reminder_id,
    reminders_due,
    retry_at,
)
from services.notify.domain.wording import choose_language, when
from shared.notifications import NoticeKind, NotificationPreferences

START = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
WINDOWS = ReminderWindows(day_before=timedelta(hours=24), hour_before=timedelta(minutes=60))
VISIT = Visit(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "gardening", START, 2)


def test_no_reminder_before_the_day_before() -> None:
    assert reminders_due(VISIT, START - timedelta(hours=25), WINDOWS) == []


def test_the_day_before_both_sides_get_one_with_a_stable_id() -> None:
    first = reminders_due(VISIT, START - timedelta(hours=23), WINDOWS)
    again = reminders_due(VISIT, START - timedelta(hours=2), WINDOWS)
    assert {n.person_id for n in first} == {VISIT.helper_id, VISIT.neighbour_id}
    assert {n.kind for n in first} == {Kind.REMINDER_DAY_BEFORE}
    assert {n.event_id for n in first} == {n.event_id for n in again}


def test_inside_the_last_hour_only_the_hour_reminder_is_due() -> None:
    due = reminders_due(VISIT, START - timedelta(minutes=30), WINDOWS)
    assert {n.kind for n in due} == {Kind.REMINDER_HOUR_BEFORE}
    assert reminders_due(VISIT, START, WINDOWS) == []


def test_a_moved_visit_has_new_reminder_ids() -> None:
    moved = Visit(
        VISIT.booking_id,
        VISIT.helper_id,
        VISIT.neighbour_id,
        VISIT.skill,
        START + timedelta(days=1),
        2,
    )
    kind = Kind.REMINDER_DAY_BEFORE
    assert reminder_id(moved, kind) != reminder_id(VISIT, kind)


def test_retries_wait_twice_as_long_each_time_up_to_a_cap() -> None:
    waits = [(retry_at(START, n, 2.0) - START).total_seconds() for n in (1, 2, 3, 30)]
    assert waits == [2.0, 4.0, 8.0, 3600.0]


def test_the_first_spoken_language_with_templates_is_chosen() -> None:
    available = frozenset({"en", "cy"})
    assert choose_language(["cy-GB", "en"], available) == "cy"
    assert choose_language(["fr", "en"], available) == "en"
    assert choose_language(["pl"], available) == "en"


def test_dates_are_words_in_the_persons_zone_and_language() -> None:
    london = ZoneInfo("Europe/London")
    assert when(START, london, "en") == "Tuesday 8 December at 10:00"
    assert when(START, london, "cy") == "Dydd Mawrth 8 Rhagfyr am 10:00"


def test_every_kind_has_an_english_and_a_welsh_template() -> None:
    templates = TemplateFolder()
    assert {"en", "cy"} <= templates.languages
    for language in ("en", "cy"):
        assert templates.kinds(language) == {str(kind) for kind in Kind}


def test_a_template_fills_its_values_and_keeps_unknown_ones_visible() -> None:
    subject, body = TemplateFolder().render(
        "en", "booking_confirmed", {"name": "Ada", "skill": "gardening", "hours": "2"}
    )
    assert subject.startswith("Your visit is booked: gardening on {starts_at}")
    assert body.startswith("Hello Ada,")


def test_quiet_hours_across_midnight_end_the_next_morning() -> None:
    london = ZoneInfo("Europe/London")
    late = datetime(2026, 12, 8, 23, 15, tzinfo=london)
    assert quiet_until(late, time(22, 0), time(7, 30)) == datetime(
        2026, 12, 9, 7, 30, tzinfo=london
    )
    early = datetime(2026, 12, 9, 6, 0, tzinfo=london)
    assert quiet_until(early, time(22, 0), time(7, 30)) == datetime(
        2026, 12, 9, 7, 30, tzinfo=london
    )
    assert quiet_until(datetime(2026, 12, 9, 12, 0, tzinfo=london), time(22), time(7, 30)) is None


def test_quiet_hours_within_a_day() -> None:
    london = ZoneInfo("Europe/London")
    lunch = datetime(2026, 12, 8, 13, 0, tzinfo=london)
    assert quiet_until(lunch, time(12), time(14)) == datetime(2026, 12, 8, 14, 0, tzinfo=london)
    assert quiet_until(lunch, time(14), time(16)) is None


def test_notify_knows_every_kind_booking_lets_people_choose() -> None:
    # Welfare checks go to someone else (an emergency contact, the operators), and account
    # links by email only, always: not kinds a person chooses channels for.
    chosen = {str(kind) for kind in Kind} - set(WELFARE) - set(LINKS)
    assert chosen == {str(kind) for kind in NoticeKind}


def test_safety_notices_cannot_be_turned_off_and_others_can() -> None:
    preferences = NotificationPreferences(channels={NoticeKind.OFFER_RECEIVED: []})
    assert not preferences.sends("offer_received", "email")
    assert preferences.sends("booking_confirmed", "email")
    assert preferences.sends("booking_cancelled", "email")
    with pytest.raises(ValidationError, match="safety"):
        NotificationPreferences(channels={NoticeKind.BOOKING_CANCELLED: []})
