"""Content-word fingerprints of a request and how alike two of them are."""

from __future__ import annotations

import re
from collections.abc import Collection

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    """a an the and or but if then so to of in on at for from by with about as is are was were be been being am
    i me my mine we us our you your yours he she it its they them their this that these those there here what
    which who whom whose when where why how can could would should will shall may might must do does did done
    have has had not no yes please kindly hello hi hey dear thanks thank regards sir madam team support still
    just now again any some all also very really get got want would like need help""".split()
)


def fingerprint(text: str) -> frozenset[str]:
    """Content words (crudely stemmed) of a message; stopwords and one-letter tokens dropped."""
    global _last
    last = _last
    if last[0] == text:  # decide() and then record() ask about the same text
        return last[1]
    cache = _CONTENT
    if len(cache) >= _CONTENT_LIMIT:
        cache.clear()
    found: set[str] = set()
    for w in _WORD.findall(text.lower()):
        content = cache.get(w)
        if content is None:
            content = cache[w] = _stem(w) if len(w) > 1 and w not in _STOPWORDS else ""
        if content:
            found.add(content)
    result = frozenset(found)
    _last = (text, result)
    return result


_CONTENT: dict[str, str] = {}  # word -> its stem, "" when it carries no content
_CONTENT_LIMIT = 50_000
_last: tuple[str | None, frozenset[str]] = (None, frozenset())


def similarity(a: frozenset[str], b: Collection[str]) -> float:
    """Overlap coefficient: 1.0 when the shorter request is contained in the longer one.

    `b` may be any collection of distinct words (an open item holds its fingerprint as a tuple).
    """
    if not a or not b:
        return 0.0
    common = a.intersection(b) if isinstance(a, (set, frozenset)) else set(a).intersection(b)
    return len(common) / min(len(a), len(b))


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
