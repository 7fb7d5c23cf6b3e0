"""Threading an answer by the reply token in our Message-ID: only when its References miss the conversation."""

from __future__ import annotations

from channels.email.normalize import normalize_email
from workers.runtime.mail_threads import our_ids, rethreaded

OURS = "omniroute.3ba39478-c7d5-571e-82be-4d4387cb893c@alkonect.com"


def answer(headers: str) -> bytes:
    return (f"From: ada@example.net\r\nTo: support@alkonect.com\r\nSubject: Re: order\r\nMessage-ID: <a-2@example.net>"
            f"\r\nDate: Mon, 02 Mar 2026 09:30:00 +0000\r\n{headers}\r\nstill waiting\r\n").encode()


def test_an_answer_naming_only_our_mail_joins_the_conversation_that_mail_answered() -> None:
    message = normalize_email(answer(f"In-Reply-To: <{OURS}>\r\n"), tenant="alkonect")
    assert our_ids(message) == [OURS] and message.conversation_key == OURS
    threaded = rethreaded(message, OURS, "a-1@example.net")
    assert threaded.conversation_key == "a-1@example.net" and threaded.reply.references == ["a-1@example.net"]
    assert threaded.reply.in_reply_to == [OURS] and threaded.provider["threaded_by"] == f"our Message-ID <{OURS}>"
    assert threaded.id == message.id  # the same message, threaded: its id and dedupe key do not change


def test_the_references_chain_comes_first() -> None:
    message = normalize_email(answer(f"In-Reply-To: <{OURS}>\r\nReferences: <a-1@example.net> <{OURS}>\r\n"),
                              tenant="alkonect")
    assert rethreaded(message, OURS, "a-1@example.net") is message
    assert our_ids(normalize_email(answer("In-Reply-To: <omniroute.chat.s1@alkonect.com>\r\n"),
                                   tenant="alkonect")) == []  # not a reply token
