"""Languages a helper and a neighbour share, and their names for an offer's reasons."""

from __future__ import annotations

from collections.abc import Iterable

#: English names of languages spoken in Kith's neighbourhoods, by code; another code is
#: shown as it is.
NAMES = {
    "ar": "Arabic",
    "bfi": "British Sign Language",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "cy": "Welsh",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "ga": "Irish",
    "gd": "Scottish Gaelic",
    "gu": "Gujarati",
    "hi": "Hindi",
    "it": "Italian",
    "ku": "Kurdish",
    "lt": "Lithuanian",
    "pa": "Punjabi",
    "pl": "Polish",
    "ps": "Pashto",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "so": "Somali",
    "ta": "Tamil",
    "ti": "Tigrinya",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "yue": "Cantonese",
    "zh": "Chinese",
}


def normalised(codes: Iterable[str]) -> frozenset[str]:
    """Codes compared without case or region: ``pt-BR`` and ``pt`` share Portuguese."""
    return frozenset(code.strip().lower().split("-")[0] for code in codes if code.strip())


def shared(neighbour: Iterable[str], helper: Iterable[str]) -> list[str]:
    """The languages both speak, as primary codes in the neighbour's order."""
    theirs = normalised(helper)
    ordered = dict.fromkeys(code.strip().lower().split("-")[0] for code in neighbour)
    return [code for code in ordered if code in theirs]


def spoken(codes: list[str]) -> str:
    """``"Speaks Welsh"``, ``"Speaks Welsh and English"``: a reason a person can read."""
    names = [NAMES.get(code, code) for code in codes]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Speaks {listed}"
