"""Words as the keyword index holds them: lowercased, stopwords dropped, Snowball-stemmed.

Passages are indexed as these tokens and questions are read with the same `Tokenizer`, so both
are read alike, whatever the engine's own tokenizers do.
"""

from __future__ import annotations

import re
import threading
from typing import Any

_TOKEN = re.compile(r"(?u)\b\w\w+\b|\b\d\b")
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves say said says tell told""".split()  # noqa: SIM905 - a word list reads better as text
)


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


class Tokenizer:
    """Lowercase, drop stopwords, stem: the same for passages and questions."""

    def __init__(self) -> None:
        self._stem = _stemmer()
        self._lock = threading.Lock()  # PyStemmer's stemmer object is not thread-safe

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _TOKEN.findall(text.lower().replace("’", "'")) if w not in _STOPWORDS]
        with self._lock:
            return list(self._stem.stemWords(words))
