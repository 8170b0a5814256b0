"""The template folder: ``<language>/<kind>.txt``, a ``Subject:`` line, a blank line, the body.

A community adds a language by copying ``en/`` to a folder named by its language tag and
translating each file; ``{name}``, ``{skill}``, ``{starts_at}`` and the like are filled in.
"""

from __future__ import annotations

from pathlib import Path
from string import Formatter

from services.notify.domain.wording import DEFAULT_LANGUAGE

#: The templates that come with Kith.
BUILT_IN = Path(__file__).resolve().parent.parent / "templates"


class _Lenient(dict[str, str]):
    # A template naming a value an event does not carry shows the name, not a crash.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class TemplateFolder:
    """``Templates`` read once from a folder."""

    def __init__(self, folder: Path = BUILT_IN) -> None:
        self._templates: dict[tuple[str, str], tuple[str, str]] = {}
        for path in sorted(folder.glob("*/*.txt")):
            text = path.read_text(encoding="utf-8")
            first, _, body = text.partition("\n")
            if not first.startswith("Subject:"):
                raise ValueError(f"{path}: the first line must be 'Subject: ...'")
            self._templates[(path.parent.name, path.stem)] = (
                first.removeprefix("Subject:").strip(),
                body.lstrip("\n"),
            )
        self._languages = frozenset(language for language, _ in self._templates)

    @property
    def languages(self) -> frozenset[str]:
        return self._languages

    def kinds(self, language: str) -> set[str]:
        """The kinds of notice ``language`` has templates for."""
        return {kind for lang, kind in self._templates if lang == language}

    def render(self, language: str, kind: str, values: dict[str, str]) -> tuple[str, str]:
        subject, body = self._templates.get(
            (language, kind), self._templates[(DEFAULT_LANGUAGE, kind)]
        )
        fill = _Lenient(values)
        formatter = Formatter()
        return formatter.vformat(subject, (), fill), formatter.vformat(body, (), fill)
