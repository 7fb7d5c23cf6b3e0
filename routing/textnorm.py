"""Text normalisation shared by the classifiers: lower-casing, tokens, light stems, phrase index."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u2014": " ", "\u2013": " "})
_URL = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")  # bounded: linear time
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Contractions and spellings folded onto one token so lexicon phrases stay short.
_FOLD = {
    "can't": "cant", "cannot": "cant", "couldn't": "cant", "couldnt": "cant", "unable": "cant",
    "won't": "not", "wont": "not", "don't": "not", "dont": "not", "doesn't": "not", "doesnt": "not",
    "didn't": "not", "didnt": "not", "isn't": "not", "isnt": "not", "aren't": "not", "arent": "not",
    "wasn't": "not", "wasnt": "not", "weren't": "not", "haven't": "not", "havent": "not",
    "hasn't": "not", "hasnt": "not", "hadn't": "not", "shouldn't": "not", "wouldn't": "not",
    "i'm": "i am", "im": "i am", "it's": "it is", "you're": "you are", "youre": "you are",
    "we're": "we are", "they're": "they are", "i've": "i have", "i'll": "i will", "we'll": "we will",
    "you'll": "you will", "i'd": "i would", "we'd": "we would", "what's": "what is",
    "where's": "where is", "that's": "that is", "there's": "there is", "let's": "let us",
    "pls": "please", "plz": "please", "pse": "please", "u": "you", "ur": "your", "r": "are",
    "colour": "color", "cancelled": "canceled", "cancelling": "canceling",
    "centre": "center", "programme": "program", "recieve": "receive", "recieved": "received",
    "authorise": "authorize", "authorised": "authorized", "unauthorised": "unauthorized",
    "cheque": "check", "instalment": "installment", "instalments": "installments",
}


def normalise(text: str) -> str:
    """Lower-case, unify quotes and drop URLs/e-mail addresses (they carry no category signal)."""
    if text.isascii():  # the only ASCII character _QUOTES maps is the backtick
        low = (text.replace("`", "'") if "`" in text else text).lower()
    else:
        low = text.translate(_QUOTES).lower()
    # a URL needs "://" or "www.", an address "@": skip the (costly) pattern when none is there
    return _URL.sub(" ", low) if "@" in low or "://" in low or "www." in low else low


def words(norm: str) -> list[str]:
    """Tokens of already-normalised text with contractions and spellings folded."""
    out: list[str] = []
    for w in _WORD.findall(norm):
        out.extend(_fold(w))
    return out


def _fold(w: str) -> tuple[str, ...]:
    folded = _FOLD.get(w)
    if folded is None:
        return (w.removesuffix("'s") if w.endswith("'s") else w,)
    return tuple(folded.split())


class Tokens(NamedTuple):
    """One text read once: its normalised form, folded words and their stems."""

    norm: str
    words: list[str]
    stems: list[str]


_READ_CACHE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # raw token -> (words, stems)
_READ_CACHE_LIMIT = 50_000


def read(raw: str) -> Tokens:
    """`normalise`, `words` and `stems` of `raw` in one pass (token folds and stems memoised)."""
    norm = normalise(raw)
    plain: list[str] = []
    stemmed: list[str] = []
    cache = _READ_CACHE
    for w in _WORD.findall(norm):
        entry = cache.get(w)
        if entry is None:
            if len(cache) >= _READ_CACHE_LIMIT:
                cache.clear()
            folded = _fold(w)
            entry = cache[w] = (folded, tuple(stem(f) for f in folded))
        plain += entry[0]
        stemmed += entry[1]
    return Tokens(norm, plain, stemmed)


# Words whose crude stem would collide with an unrelated cue ("listing" vs "list", "goods" vs "good").
_KEEP = {"listing": "listing", "listings": "listing", "goods": "goods", "news": "news", "sales": "sales",
         "status": "status", "business": "business", "during": "during", "morning": "morning"}


@lru_cache(maxsize=65536)
def stem(w: str) -> str:
    """A deliberately crude suffix stripper; lexicon phrases go through it too, so only consistency matters."""
    if len(w) <= 3 or not w.isalpha():
        return w
    if w in _KEEP:
        return _KEEP[w]
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suf in ("ing", "ed"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)]
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] != "s":
        w = w[:-1]
    return w


def stems(norm: str) -> list[str]:
    return [stem(w) for w in words(norm)]


@dataclass(frozen=True, slots=True)
class Cue:
    """One lexicon phrase and what it votes for."""

    phrase: str
    category: str
    weight: float
    tail: tuple[str, ...]  # stems after the first one


class Hit(NamedTuple):
    cue: Cue
    start: int
    end: int


class PhraseIndex:
    """Phrases compiled to stem tuples, looked up by their first one or two stems: linear in the text length."""

    def __init__(self, table: Mapping[str, Mapping[str, float]]) -> None:
        self._single: dict[str, list[Cue]] = {}  # one-stem phrases by their stem
        # first two stems -> tail length -> the stems after the second -> cues
        self._by_pair: dict[tuple[str, str], dict[int, dict[tuple[str, ...], list[Cue]]]] = {}
        for category, phrases in table.items():
            for phrase, weight in phrases.items():
                key = stems(normalise(phrase))
                if not key:
                    raise ValueError(f"empty lexicon phrase for {category}: {phrase!r}")
                tail = tuple(key[1:])
                cue = Cue(phrase, category, weight, tail)
                if not tail:
                    self._single.setdefault(key[0], []).append(cue)
                else:
                    by_len = self._by_pair.setdefault((key[0], key[1]), {})
                    by_len.setdefault(len(tail), {}).setdefault(tail[1:], []).append(cue)

    def scan(self, toks: list[str]) -> list[Hit]:
        """Every phrase occurrence; the caller decides how overlapping phrases combine."""
        return [Hit(cue, start, end) for start, end, cue in sorted(self.matches(toks), key=_start)]

    def matches(self, toks: list[str]) -> list[tuple[int, int, Cue]]:
        """`scan` as plain (start, end, cue) tuples: one-stem cues first; cues found at one position by one
        phrase stay in lexicon order."""
        single, by_pair = self._single, self._by_pair
        found = [(i, i + 1, cue) for i, tok in enumerate(toks) if tok in single for cue in single[tok]]
        starts = [i for i, pair in enumerate(zip(toks, toks[1:])) if pair in by_pair]
        if not starts:
            return found
        n = len(toks)
        for i in starts:
            for k, tails in by_pair[toks[i], toks[i + 1]].items():
                if i + k < n:
                    found += [(i, i + k + 1, cue) for cue in tails.get(tuple(toks[i + 2 : i + 1 + k]), ())]
        return found


def _start(match: tuple[int, int, Cue]) -> int:
    return match[0]
