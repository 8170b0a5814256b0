"""The languages a person speaks, as they may leave booking."""

from __future__ import annotations

import re
from collections.abc import Sequence

_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")


def language_codes(languages: Sequence[str] | None) -> list[str]:
    """The person's languages that are language codes, lower-cased, each once, at most ten.

    Only codes travel on topics (matching prefers a helper who shares one): an account made
    before sign-up checked them may hold free text, which stays in booking.
    """
    codes = [language.strip().lower() for language in languages or ()]
    return [code for code in dict.fromkeys(codes) if _LANGUAGE_CODE.fullmatch(code)][:10]
