"""Type aliases shared by the contracts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: An H3 cell at neighbourhood resolution: the partition key for matching's state.
Neighbourhood = Annotated[str, Field(pattern=r"^[0-9a-f]{15}$")]
#: An H3 cell at street resolution: near enough to measure travel, far from an address.
Cell = Annotated[str, Field(pattern=r"^[0-9a-f]{15}$")]
#: A whole number of hours for one visit.
Hours = Annotated[int, Field(ge=1, le=8)]
#: A language as a BCP 47 code ("cy", "en", "pa", "pt-BR"): a code, never a person's words.
LanguageCode = Annotated[
    str, Field(min_length=2, max_length=35, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
]
