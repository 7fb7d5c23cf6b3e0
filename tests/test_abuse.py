"""Abuse detection: aimed insults, threats, harassment, hate, obfuscation, and what must not be flagged."""

from __future__ import annotations

import pytest

from routing.abuse import KINDS, detect_abuse


@pytest.mark.parametrize(
    "text",
    [
        "This is unacceptable, I'm upset.",
        "Ridiculous. Worst service I have ever had.",
        "I will report you to the consumer protection council",
        "I'll take legal action if this is not resolved",
        "damn app keeps crashing",
        "I will report you to the police",
        "what the fuck is going on with my delivery",  # profanity, but not at anyone
        "Your app is useless and your service is rubbish",
        "is this a scam? I paid and got nothing",
        "I feel like an idiot for ordering from you",
        "Don't treat me like a fool, I have the receipt",
        "you think we are stupid?",
        "do you sell animals or pet food?",
        "I will find another store if this continues",
        "I can't find you on Instagram",
        "this price is killing me",
        "I will visit your office tomorrow to sort this out",
        "I will expose you on Twitter",
        "the shut up and take my money deal",
        "kill switch on the API is not working",
        "Section F you mentioned in the contract",
    ],
)
def test_frustration_is_not_abuse(text: str) -> None:
    result = detect_abuse(text)
    assert not result.abusive, result.evidence


@pytest.mark.parametrize(
    "text",
    [
        "I booked a class and need to assess the therapist's availability",
        "Scunthorpe delivery address, please",
        "Do you sell shitake or shiitake mushrooms?",
        "I need a cocktail dress and a Dickens novel",
        "The assassin's creed game disc has a scratch",
        "Please pass the parcel to my assistant at Essex Road",
        "Cockpit simulator arrived with a broken button",
        "analyse the hit count",
        "The DOM does not load in Chrome",
    ],
)
def test_no_scunthorpe_false_positives(text: str) -> None:
    assert not detect_abuse(text).abusive


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Useless company. Where is my order, you pack of liars?", "insult"),
        ("You people are absolute idiots", "insult"),
        ("you are all thieves", "insult"),
        ("Your support staff are a bunch of incompetent fools", "insult"),
        ("Thieves!", "insult"),
        ("Scammers! I will report you to the police and find you myself.", "threat"),
        ("I will hurt the agent who closed my ticket", "threat"),
        ("I'll kill you", "threat"),
        ("we will burn your office down", "threat"),
        ("burn your office", "threat"),
        ("I am going to come there and beat up whoever is at the desk", "threat"),
        ("I know where you live", "harassment"),
        ("hey sexy, send me your pictures", "harassment"),
        ("fuck you", "profanity_at_staff"),
        ("go to hell", "profanity_at_staff"),
        ("you fucking clowns", "profanity_at_staff"),
        ("Go back to your country", "hate"),
    ],
)
def test_abuse_is_flagged_with_its_kind(text: str, kind: str) -> None:
    result = detect_abuse(text)
    assert result.abusive
    assert kind in result.kinds, result.evidence
    assert result.evidence


@pytest.mark.parametrize(
    "text",
    ["f*ck you", "F**K YOU", "fuk u", "f u c k you", "fuuuuck you", "you f***ing morons", "you sh1tty company",
     "y0u 1d10ts", "you are @ssholes", "you b!tch", "stupid b*tch", "MORONS!!!"],
)
def test_obfuscated_abuse(text: str) -> None:
    result = detect_abuse(text)
    assert result.abusive, text


def test_kinds_are_ordered_and_known() -> None:
    result = detect_abuse("you idiots, I will find you and fuck you")
    assert result.kinds == [k for k in KINDS if k in result.kinds]
    assert {"insult", "threat", "profanity_at_staff"} <= set(result.kinds)


def test_clean_text_has_no_evidence() -> None:
    result = detect_abuse("hello, where is my parcel?")
    assert result == type(result)(abusive=False, kinds=[], evidence=[])


def test_pattern_triggers_appear_in_their_patterns() -> None:
    """A pattern only runs when a trigger word is present, so a mistyped trigger would silence it."""
    from routing.abuse import _PATTERNS

    for kind, label, triggers, rx in _PATTERNS:
        assert triggers, label
        missing = {t for t in triggers if t.rstrip("s'") not in rx.pattern}
        assert not missing, (kind, label, missing)


@pytest.mark.parametrize("text", ["I know where your family lives", "he knows... no, I know where you stay"])
def test_stalking_inflections(text: str) -> None:
    assert "harassment" in detect_abuse(text).kinds
