"""Times and words in a person's language, for the plain-text templates.

Dates are spelled out ("Tuesday 3 December at 10:00") rather than numeric, because a screen
reader reads them naturally and nobody has to guess whether 03/12 is March or December.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

DEFAULT_LANGUAGE = "en"

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "cy": (
        "Dydd Llun",
        "Dydd Mawrth",
        "Dydd Mercher",
        "Dydd Iau",
        "Dydd Gwener",
        "Dydd Sadwrn",
        "Dydd Sul",
    ),
}
_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "cy": (
        "Ionawr",
        "Chwefror",
        "Mawrth",
        "Ebrill",
        "Mai",
        "Mehefin",
        "Gorffennaf",
        "Awst",
        "Medi",
        "Hydref",
        "Tachwedd",
        "Rhagfyr",
    ),
}
_AT = {"en": "at", "cy": "am"}


def choose_language(spoken: list[str], available: frozenset[str]) -> str:
    """The first language a person speaks that has templates; English otherwise.

    ``spoken`` holds tags such as ``cy`` or ``en-GB``: only the language part counts.
    """
    for tag in spoken:
        language = tag.split("-", 1)[0].strip().lower()
        if language in available:
            return language
    return DEFAULT_LANGUAGE


def when(moment: datetime, zone: tzinfo, language: str) -> str:
    """``moment`` in ``zone`` as words: "Tuesday 3 December at 10:00"."""
    local = moment.astimezone(zone)
    days = _DAYS.get(language, _DAYS[DEFAULT_LANGUAGE])
    months = _MONTHS.get(language, _MONTHS[DEFAULT_LANGUAGE])
    at = _AT.get(language, _AT[DEFAULT_LANGUAGE])
    return f"{days[local.weekday()]} {local.day} {months[local.month - 1]} {at} {local:%H:%M}"
