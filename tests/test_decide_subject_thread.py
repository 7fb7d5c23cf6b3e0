"""Threading's last resort: a mail whose reply headers thread nothing joins the sender's open item on its subject."""

from __future__ import annotations

import itertools
from datetime import timedelta

from routing_helpers import Stream, local

from channels.email.normalize import normalize_email
from contracts.decision import Action
from routing.dedupe import subject_key

_ids = itertools.count(1)
START = local("alkonect", "2026-11-02T10:00:00")


def mail(subject: str, text: str, *, sender: str = "ada@example.net", days: float = 0, headers: str = "") -> bytes:
    at = START + timedelta(days=days)
    return (f"From: {sender}\r\nTo: support@alkonect.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <m-{next(_ids)}@example.net>\r\nDate: {at.strftime('%a, %d %b %Y %H:%M:%S %z')}\r\n"
            f"{headers}\r\n{text}\r\n").encode()


def see(stream: Stream, raw: bytes):
    message = normalize_email(raw, tenant="alkonect")
    return message, stream(message)


def merged_by_subject(decision) -> bool:
    step = next(s for s in decision.trace if s.rule == "dedupe.repeat")
    return decision.action == Action.merge and "same sender and subject" in (step.detail or "")


def opened(stream: Stream, subject: str = "My parcel never arrived",
           text: str = "Order ALK-100001 was due last week and the parcel never arrived.", **kw):
    message, first = see(stream, mail(subject, text, **kw))
    assert first.action == Action.route
    return first


def test_an_answer_without_reply_headers_joins_the_senders_open_item_with_that_subject() -> None:
    """Five days on (past the 72h repeat window): only the subject and the sender tie it to the open item."""
    s = Stream("alkonect")
    first = opened(s)
    _, answer = see(s, mail("AW: Re:  my parcel NEVER arrived", "Here is the photo of the label you asked for.",
                            days=5))
    assert merged_by_subject(answer) and answer.work_item_id == first.work_item_id
    _, again = see(s, mail("Fwd: My parcel never arrived", "And the courier's note.", days=6))
    assert merged_by_subject(again) and again.work_item_id == first.work_item_id


def test_a_different_sender_with_the_same_subject_does_not_join() -> None:
    s = Stream("alkonect")
    first = opened(s)
    _, other = see(s, mail("Re: My parcel never arrived", "Here is the photo of the label you asked for.",
                           sender="bola@example.org", days=5))
    assert other.action == Action.route and other.work_item_id != first.work_item_id


def test_a_new_subject_from_the_same_sender_is_a_new_request() -> None:
    s = Stream("alkonect")
    first = opened(s, days=0)
    _, other = see(s, mail("Change the email address on my account", "Please change my login email to ada@work.ng.",
                           days=5))
    assert other.action == Action.route and other.work_item_id != first.work_item_id


def test_the_same_subject_naming_a_different_order_is_a_different_request() -> None:
    s = Stream("alkonect")
    opened(s, subject="Delivery problem", text="Order ALK-100001 never arrived.")
    _, other = see(s, mail("Re: Delivery problem", "Now order ALK-100002 is missing as well.", days=5))
    assert other.action == Action.route


def test_the_same_subject_after_the_subject_window_is_a_new_request() -> None:
    s = Stream("alkonect")
    opened(s)
    _, late = see(s, mail("Re: My parcel never arrived", "Here is the photo of the label you asked for.",
                          days=15))  # alkonect keeps the default 14d subject_window
    assert late.action == Action.route


def test_reply_headers_come_before_the_subject() -> None:
    """Two open items of one sender: an answer whose In-Reply-To names the second joins it, whatever its subject."""
    s = Stream("alkonect")
    first = opened(s)
    parcel, second = see(s, mail("Refund for my cancelled subscription", "I cancelled and was charged again.",
                                 days=1))
    assert second.action == Action.route and second.work_item_id != first.work_item_id
    _, answer = see(s, mail("Re: My parcel never arrived", "Bank statement attached.", days=2,
                            headers=f"In-Reply-To: <{parcel.reply.message_id}>\r\n"))
    assert answer.action == Action.merge and answer.work_item_id == second.work_item_id
    assert not merged_by_subject(answer)


def test_a_later_item_on_the_same_subject_takes_the_subject_over() -> None:
    s = Stream("alkonect")
    opened(s)
    later = opened(s, days=20)  # past the window: new work on the same subject
    _, answer = see(s, mail("Re: My parcel never arrived", "Photo attached.", days=21))
    assert merged_by_subject(answer) and answer.work_item_id == later.work_item_id


def test_only_mail_with_a_subject_has_a_subject_key() -> None:
    mailed = normalize_email(mail("RE: Hello  World", "hi"), tenant="alkonect")
    assert subject_key(mailed) == "subject\x1fada@example.net\x1fhello world"
    assert subject_key(normalize_email(mail("Re:", "hi"), tenant="alkonect")) is None
    assert subject_key(mailed.model_copy(update={"channel": "chat"})) is None
