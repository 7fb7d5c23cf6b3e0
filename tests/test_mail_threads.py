"""Threading an answer by the reply token in our Message-ID or our plus-tagged Reply-To: only when its References
miss the conversation."""

from __future__ import annotations

from channels.email.normalize import normalize_email
from workers.runtime.mail_threads import our_ids, rethreaded

OURS = "omniroute.3ba39478-c7d5-571e-82be-4d4387cb893c@alkonect.com"


def answer(headers: str, to: str = "support@alkonect.com") -> bytes:
    return (f"From: ada@example.net\r\nTo: {to}\r\nSubject: Re: order\r\nMessage-ID: <a-2@example.net>"
            f"\r\nDate: Mon, 02 Mar 2026 09:30:00 +0000\r\n{headers}\r\nstill waiting\r\n").encode()


def test_an_answer_naming_only_our_mail_joins_the_conversation_that_mail_answered() -> None:
    message = normalize_email(answer(f"In-Reply-To: <{OURS}>\r\n"), tenant="alkonect")
    assert our_ids(message) == {OURS: f"our Message-ID <{OURS}>"} and message.conversation_key == OURS
    threaded = rethreaded(message, "a-1@example.net", our_ids(message)[OURS])
    assert threaded.conversation_key == "a-1@example.net" and threaded.reply.references == ["a-1@example.net"]
    assert threaded.reply.in_reply_to == [OURS] and threaded.provider["threaded_by"] == f"our Message-ID <{OURS}>"
    assert threaded.id == message.id  # the same message, threaded: its id and dedupe key do not change


def test_the_references_chain_comes_first() -> None:
    message = normalize_email(answer(f"In-Reply-To: <{OURS}>\r\nReferences: <a-1@example.net> <{OURS}>\r\n"),
                              tenant="alkonect")
    assert rethreaded(message, "a-1@example.net", "our Message-ID") is message
    assert our_ids(normalize_email(answer("In-Reply-To: <omniroute.chat.s1@alkonect.com>\r\n"),
                                   tenant="alkonect")) == {}  # not a reply token


def test_an_answer_sent_to_our_plus_tagged_reply_to_names_our_mail() -> None:
    """No References, no In-Reply-To: the tag of the mailbox it was sent to is the outbound id of our mail."""
    plus = "Support+" + OURS.split(".", 1)[1].split("@")[0].upper() + "@Alkonect.com"
    message = normalize_email(answer("", to=plus), tenant="alkonect")
    assert our_ids(message) == {OURS: f"plus address <{plus.lower()}>"}
    threaded = rethreaded(message, "a-1@example.net", our_ids(message)[OURS])
    assert threaded.conversation_key == "a-1@example.net" and threaded.reply.references == ["a-1@example.net"]
    assert threaded.provider["threaded_by"] == f"plus address <{plus.lower()}>"


def test_our_message_id_comes_before_the_plus_tag() -> None:
    other = "omniroute.00000000-0000-4000-8000-000000000000@alkonect.com"
    plus = f"support+{OURS.split('.', 1)[1].split('@')[0]}@alkonect.com"
    message = normalize_email(answer(f"In-Reply-To: <{other}>\r\n", to=plus), tenant="alkonect")
    assert list(our_ids(message)) == [other, OURS]


def test_a_plus_tag_that_is_not_an_outbound_id_names_nothing() -> None:
    for to in ("support+sales@alkonect.com", "support@alkonect.com", "a+b+3ba39478-c7d5-571e-82be-4d4387cb893c@x.com"):
        assert our_ids(normalize_email(answer("", to=to), tenant="alkonect")) == {}, to
