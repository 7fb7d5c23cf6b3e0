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
    return _URL.sub(" ", text.translate(_QUOTES).lower())


def words(norm: str) -> list[str]:
    """Tokens of already-normalised text with contractions and spellings folded."""
    out: list[str] = []
    for w in _WORD.findall(norm):
        folded = _FOLD.get(w)
        if folded is None:
            out.append(w.removesuffix("'s") if w.endswith("'s") else w)
        elif " " in folded:
            out.extend(folded.split())
        else:
            out.append(folded)
    return out


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
    """Phrases compiled to stem tuples, looked up by their first stem: linear in the text length."""

    def __init__(self, table: Mapping[str, Mapping[str, float]]) -> None:
        # first stem -> tail length -> tail stems -> cues
        self._by_first: dict[str, dict[int, dict[tuple[str, ...], list[Cue]]]] = {}
        for category, phrases in table.items():
            for phrase, weight in phrases.items():
                key = stems(normalise(phrase))
                if not key:
                    raise ValueError(f"empty lexicon phrase for {category}: {phrase!r}")
                tail = tuple(key[1:])
                cue = Cue(phrase, category, weight, tail)
                self._by_first.setdefault(key[0], {}).setdefault(len(tail), {}).setdefault(tail, []).append(cue)

    def scan(self, toks: list[str]) -> list[Hit]:
        """Every phrase occurrence; the caller decides how overlapping phrases combine."""
        n = len(toks)
        hits: list[Hit] = []
        for i, tok in enumerate(toks):
            by_len = self._by_first.get(tok)
            if not by_len:
                continue
            for k, tails in by_len.items():
                if i + k < n:
                    for cue in tails.get(tuple(toks[i + 1 : i + 1 + k]), ()):
                        hits.append(Hit(cue, i, i + k + 1))
        return hits
