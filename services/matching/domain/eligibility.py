"""Who may be offered a request: every rule a helper must pass, each with its reason."""

from __future__ import annotations

from services.matching.domain.model import HelperView, hours_of, same_week
from shared.contracts.requests import HelpRequested
from shared.geo import distance_km


def hours_booked_in_week(helper: HelperView, request: HelpRequested) -> int:
    """Hours the helper is booked for in the ISO week of the request."""
    return sum(v.hours for v in helper.bookings if same_week(v.starts_at, request.starts_at))


def why_ineligible(helper: HelperView, request: HelpRequested) -> str | None:
    """Why ``helper`` may not be offered ``request``, or ``None`` when they may.

    A helper is eligible when they offer the skill and trust has approved them for it until
    at least the request's start; they are not suspended and not the neighbour themself; the
    pair has not been made unmatchable; they offer every requested hour and are booked for
    none of them, nor being asked for one first by another neighbour they visit regularly;
    the neighbour is within their travel radius; and the request keeps them within their
    weekly cap.
    """
    profile = helper.profile
    if profile.person_id == request.neighbour_id:
        return "is the neighbour"
    if request.skill not in profile.skills:
        return f"does not offer {request.skill.value}"
    standing = helper.standing
    if standing is None:
        return "has no standing from trust yet"
    if standing.suspended:
        return "is suspended"
    approved_until = standing.approved_skills.get(request.skill)
    if approved_until is None:
        return f"is not approved for {request.skill.value}"
    if approved_until <= request.starts_at:
        return f"approval for {request.skill.value} expires before the visit"
    if helper.relationship is not None and not helper.relationship.matchable:
        return "the pair is not matchable"
    wanted = hours_of(request.starts_at, request.hours)
    if any(hour not in helper.free_hours for hour in wanted):
        return "does not offer every requested hour"
    booked = {hour for visit in helper.bookings for hour in visit.hours_covered()}
    if any(hour in booked for hour in wanted):
        return "is already booked for a requested hour"
    held = {
        hour
        for hold in helper.held
        if hold.request_id != request.request_id
        for hour in hold.hours_covered()
    }
    if any(hour in held for hour in wanted):
        # Their regular neighbour is asking them first: a stranger's yes must not take the
        # hour from under the regular visit (continuity, in ``kith bench matching``).
        return "is being asked first by a regular neighbour for a requested hour"
    if distance_km(profile.cell, request.cell) > profile.travel_radius_km:
        return "lives beyond their travel radius"
    if hours_booked_in_week(helper, request) + request.hours > profile.weekly_hour_cap:
        return "would pass their weekly cap"
    return None


def is_eligible(helper: HelperView, request: HelpRequested) -> bool:
    """Whether ``helper`` may be offered ``request``."""
    return why_ineligible(helper, request) is None
