"""Detect abusive, threatening or harassing language aimed at staff or the company (precision first).

Frustration is not abuse: "this is unacceptable", "worst service", "I'll take legal action", "damn app keeps
crashing" and "report you to the police" pass. Flagged: insults aimed at people ("you pack of liars"),
profanity aimed at staff ("f*** you"), threats of violence ("I will find you") and threats without a violent word
(promises to visit, wait for, "deal with" or "sort out" staff, in English, Nigerian Pidgin and South African
English: "I'll be paying your staff a visit", "I go show una pepper", "I'll donner that agent"), sexual or stalking harassment
and hate. Matching is on whole tokens after light de-obfuscation (f*ck, f**k, fuk, sh1t, a$$hole, f u c k,
fuuuck), so "class", "assess", "therapist" and "shitake" never match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import pydantic.main  # noqa: F401  (for mypyc: the module BaseModel is defined in, which the compiled class body reads)
from pydantic import BaseModel, ConfigDict

from routing.lexicon_abuse import (
    HARASSMENT_PATTERNS,
    HATE_PATTERNS,
    HATE_SLURS,
    INTENSIFIERS,
    PROFANITY,
    PROFANITY_AT_STAFF_PATTERNS,
    STAFF_NOUNS,
    STRONG_INSULTS,
    THREAT_PATTERNS,
    VARIANTS,
    WEAK_INSULTS,
)

KINDS = ("insult", "threat", "harassment", "profanity_at_staff", "hate")

_TOKEN = re.compile(r"[a-z0-9@$*]+(?:[!|][a-z*]+)*(?:'[a-z]+)?|[.!?;]")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                       "!": "i", "|": "i"})
_LEET_CHARS = frozenset("013457@$!|")
_RUN = re.compile(r"(.)\1{2,}")
_CONTRACTIONS = {"i'll": "i will", "we'll": "we will", "you'll": "you will", "i'm": "i am", "im": "i am",
                 "you're": "you are", "youre": "you are", "we're": "we are", "won't": "will not",
                 "wont": "will not", "don't": "do not", "dont": "do not", "gonna": "going to",
                 "y'all": "you all", "yall": "you all", "u're": "you are", "ima": "i am going to"}
_VOCAB = STRONG_INSULTS | WEAK_INSULTS | PROFANITY | HATE_SLURS | frozenset(VARIANTS)
_MASKABLE = tuple(sorted(PROFANITY, key=lambda w: (len(w), w)))
_INSULTS = STRONG_INSULTS | WEAK_INSULTS
_SELF = frozenset({"i", "me", "myself", "we", "us", "ourselves", "like", "am"})
_FILLER = INTENSIFIERS | {"are", "is", "were", "be", "all", "a", "an", "such", "so", "just", "nothing", "but",
                          "bunch", "pack", "of", "the", "lot", "people", "guys", "really", "truly", "proper",
                          "absolutely", "mere", "big", "bunch", "band", "gang", "set", "den", "you"}
_GROUPS = frozenset({"pack", "bunch", "band", "gang", "den", "load", "set", "group"})
_COMPANY = frozenset({"izonie", "alkonect", "conek"})
_STAFF = re.compile(rf"^{STAFF_NOUNS}$")
_PATTERNS = [(kind, label, frozenset(triggers.split()), re.compile(rx)) for kind, group in (
    ("threat", THREAT_PATTERNS), ("harassment", HARASSMENT_PATTERNS),
    ("profanity_at_staff", PROFANITY_AT_STAFF_PATTERNS), ("hate", HATE_PATTERNS)) for label, triggers, rx in group]
_TRIGGERED = {t: tuple(i for i, p in enumerate(_PATTERNS) if t in p[2]) for p in _PATTERNS for t in p[2]}
_SLURS_AND_STRONG = HATE_SLURS | STRONG_INSULTS
_EXPANDED: dict[str, tuple[str, ...]] = {}  # raw token -> its de-obfuscated, expanded tokens
_EXPANDED_LIMIT = 50_000


class AbuseResult(BaseModel):
    """Whether the text is abusive, which kinds of abuse, and the cues that fired."""

    model_config = ConfigDict(frozen=True)

    abusive: bool
    kinds: list[str]
    evidence: list[str]


def detect_abuse(text: str) -> AbuseResult:
    """Flag insults, threats, harassment, profanity aimed at staff and hate; evidence names each cue."""
    kinds, evidence = abuse_cues(text)
    return AbuseResult(abusive=bool(kinds), kinds=kinds, evidence=evidence)


def abuse_cues(text: str) -> tuple[list[str], list[str]]:
    """(kinds, evidence) of `detect_abuse`, without building the result model."""
    toks = tokens(text)
    present = set(toks)
    found: dict[str, list[str]] = {}
    if not present.isdisjoint(_SLURS_AND_STRONG):
        for i, tok in enumerate(toks):
            if tok in HATE_SLURS:
                found.setdefault("hate", []).append(f"slur '{tok}'")
            elif tok in STRONG_INSULTS and not _self_directed(toks, i):
                found.setdefault("insult", []).append(f"insult '{tok}'")
    if not present.isdisjoint(_INSULTS):  # both aimed insults and name-calling need an insult word
        for cue in (*_aimed_insults(toks), *_vocative(toks)):
            found.setdefault("insult", []).append(cue)
    woken: set[int] = set()
    for tok in present:
        hit = _TRIGGERED.get(tok)
        if hit:
            woken.update(hit)
    if woken:
        flat = " ".join(toks)
        for i in sorted(woken):
            kind, label, _, rx = _PATTERNS[i]
            if m := rx.search(flat):
                found.setdefault(kind, []).append(f"{label} '{m.group(0).strip()}'")
    if not found:
        return [], []
    kinds = [k for k in KINDS if k in found]
    return kinds, [f"{k}: {e}" for k in kinds for e in found[k]]


def tokens(text: str) -> list[str]:
    """Lower-cased, de-obfuscated tokens with sentence punctuation kept as separate tokens."""
    raw = _TOKEN.findall(text.replace("\u2019", "'").lower())
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        tok = raw[i]
        if len(tok) == 1 and tok.isalpha():
            j = i + 1
            while j < n and len(raw[j]) == 1 and raw[j].isalpha():
                j += 1
            if j - i >= 3 and (merged := _decode("".join(raw[i:j]))) in _VOCAB:  # "f u c k"
                out.append(VARIANTS.get(merged, merged))
                i = j
                continue
        words = _EXPANDED.get(tok)
        if words is None:
            if len(_EXPANDED) >= _EXPANDED_LIMIT:
                _EXPANDED.clear()
            word = _decode(tok)
            word = VARIANTS.get(word, word)
            words = _EXPANDED[tok] = tuple(_CONTRACTIONS.get(word, word).split())
        out += words
        i += 1
    return out


@lru_cache(maxsize=32768)
def _decode(tok: str) -> str:
    if "*" in tok:
        return _unmask(tok)
    if not _LEET_CHARS.isdisjoint(tok) and any(c.isalpha() for c in tok):
        tok = tok.translate(_LEET)
    if _RUN.search(tok):
        for squeezed in (_RUN.sub(r"\1", tok), _RUN.sub(r"\1\1", tok)):
            if squeezed in _VOCAB:
                return squeezed
    return tok


def _unmask(tok: str) -> str:
    """Match "f**k"-style tokens against profanity; a bare run of asterisks stays as it is."""
    if not any(c.isalpha() for c in tok):
        return tok
    rx = re.compile("".join("[a-z]{1,4}" if part.startswith("*") else re.escape(part.translate(_LEET))
                            for part in re.findall(r"\*+|[^*]+", tok)))
    return next((w for w in _MASKABLE if rx.fullmatch(w)), tok)


def _self_directed(toks: list[str], i: int) -> bool:
    return not _SELF.isdisjoint(toks[max(0, i - 4) : i])


def _aimed_insults(toks: list[str]) -> Iterator[str]:
    """Weak insults count when aimed: "you (are all) thieves", "your staff are fools", "bunch of liars"."""
    n = len(toks)
    for i, tok in enumerate(toks):
        if not _is_anchor(toks, i):
            continue
        for j in range(i + 1, min(n, i + 8)):
            word = toks[j]
            if word in _INSULTS:
                yield f"aimed insult '{' '.join(toks[i : j + 1])}'"
                return
            if word not in _FILLER and not _STAFF.match(word):
                break


def _is_anchor(toks: list[str], i: int) -> bool:
    tok = toks[i]
    if tok in ("you", "yourselves") or tok in _COMPANY:
        return True
    if tok in _GROUPS:
        return toks[i + 1 : i + 2] == ["of"]
    return tok == "your" and any(_STAFF.match(w) for w in toks[i + 1 : i + 3])


def _vocative(toks: list[str]) -> Iterator[str]:
    """A sentence that is only name-calling: "Scammers!", "Bloody thieves!"."""
    start = 0
    for k, tok in enumerate([*toks, "."]):
        if tok in ".!?;":
            sentence = toks[start:k]
            if 0 < len(sentence) <= 3 and all(w in _INSULTS or w in INTENSIFIERS for w in sentence) and any(
                    w in WEAK_INSULTS and w.endswith("s") for w in sentence):
                yield f"name-calling '{' '.join(sentence)}'"
            start = k + 1
