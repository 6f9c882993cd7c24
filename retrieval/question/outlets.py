"""Outlet names in questions ("according to TechCrunch", "the Fortune article") → outlets.

The names come from the catalogue, so any outlet the index holds is recognised, by its full
name ("FOX News - Health"), without a leading "The" ("Verge"), by the name before a section
("FOX News", which means every FOX News section) and without ".com" ("CBSSports"). A name that
is also an ordinary word ("The Age", "Fortune", "the verge of") counts only when capitalised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SECTION = re.compile(r"\s+(?:-|\||:|–|—)\s+")


@dataclass(frozen=True)
class OutletMention:
    start: int
    end: int
    outlets: tuple[str, ...]  # the stored outlet names the words may mean


def _aliases(outlet: str) -> set[str]:
    names = {outlet.strip()}
    head = _SECTION.split(outlet.strip(), maxsplit=1)[0]
    names.add(head)
    for name in list(names):
        names.add(re.sub(r"\.(?:com|co\.uk|org|net)$", "", name, flags=re.I))
    for name in list(names):
        if name.lower().startswith("the "):
            names.add(name[4:])
    return {n for n in names if len(n) >= 3}


def _distinctive(alias: str) -> bool:
    """Tell whether the name can't be an ordinary word, so lower case still counts."""
    return bool(re.search(r"[a-z][A-Z]|\d|\.", alias)) or len(alias.split()) >= 3


class OutletNames:
    """Finds the catalogue's outlet names in text."""

    def __init__(self, outlets: Iterable[str]):
        by_alias: dict[str, set[str]] = {}
        distinctive: dict[str, bool] = {}
        for outlet in outlets:
            if not outlet:
                continue
            for alias in _aliases(outlet):
                key = alias.lower()
                by_alias.setdefault(key, set()).add(outlet)
                distinctive[key] = distinctive.get(key, False) or _distinctive(alias)
        # An exact outlet name means only that outlet, even where it is also another's prefix.
        exact = {o.strip().lower(): o for o in outlets if o}
        self._outlets = {
            key: (exact[key],) if key in exact else tuple(sorted(names))
            for key, names in by_alias.items()
        }
        self._distinctive = distinctive
        keys = sorted(self._outlets, key=len, reverse=True)  # longest name wins
        self._pattern = (
            re.compile(
                # not inside a word ("o'Fortune"), but inside quotes ("the 'Fortune' article")
                r"(?<!\w)(?<!\w['’])(?:" + "|".join(re.escape(k) for k in keys) + r")(?![\w-])",
                re.IGNORECASE,
            )
            if keys
            else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def find(self, text: str) -> list[OutletMention]:
        """Return the outlet names in the text, in order, longest match first."""
        if self._pattern is None:
            return []
        mentions = []
        for match in self._pattern.finditer(text):
            key = match[0].lower()
            words = match[0].removeprefix("the ").removeprefix("The ")
            if not self._distinctive[key] and not words[:1].isupper():
                continue
            mentions.append(OutletMention(match.start(), match.end(), self._outlets[key]))
        return mentions
