"""Content-word fingerprints of a request and how alike two of them are."""

from __future__ import annotations

import re

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
    return frozenset(_stem(w) for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in _STOPWORDS)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient: 1.0 when the shorter request is contained in the longer one."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
