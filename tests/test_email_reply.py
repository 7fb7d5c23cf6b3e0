"""Unit tests for reply splitting (quotes, headers, signatures) and HTML-to-text conversion."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.email.html_text import html_to_text, html_to_text_without_quotes
from channels.email.reply import split_reply

SPLIT_CASES = [
    # (id, body, expected visible)
    ("top_post_gmail", "Hello\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One <x@gmail.com> wrote:\n\n> Hi\n", "Hello"),
    ("crlf", "Hello\r\n\r\nOn Tue, 2011-03-01 at 18:02 +0530, Bob wrote:\r\n> Hi\r\n", "Hello"),
    ("wrapped_header", "Thanks!\n\nOn Wed, Dec 9, Mister Example\n<mr@example.com>\nwrote:\n> Hey\n", "Thanks!"),
    ("german_header", "Danke.\n\nAm 25.06.2015 um 10:55 schrieb Test user:\n\nAlt\n", "Danke."),
    ("french_header", "Merci\n\nLe 19 mars 2014 10:37, Cédric <c@example.com> a écrit :\n> Bonjour\n", "Merci"),
    ("japanese_header", "了解\n\n2016/11/08 14:26、Test user <t@example.com> のメッセージ:\n\n前\n", "了解"),
    ("outlook_separator", "Fine.\n\n-----Original Message-----\nFrom: a@b.c\nSent: Monday\nTo: d@e.f\n\nOld", "Fine."),
    ("outlook_no_separator", "Yes\n\nFrom: Dan [mailto:u@h.com]\nSent: Monday, 10 AM\nTo: Watson\nSubject: Re\n\nOld", "Yes"),
    ("outlook_localized", "Ja\n\nVon: Max <m@b.de>\nGesendet: Montag\nAn: Erika\nBetreff: Anfrage\n\nAlt", "Ja"),
    ("gmail_forward", "FYI\n\n---------- Forwarded message ---------\nFrom: A <a@b.c>\nSubject: S\n\nBody", "FYI"),
    ("apple_forward", "See below.\n\nBegin forwarded message:\n\nFrom: A <a@b.c>\nSubject: S\n\nBody", "See below."),
    ("forward_only", "---------- Forwarded message ----------\nFrom: A <a@b.c>\nSubject: S\n\nThe body.", "The body."),
    ("iphone_signature", "Here is another email\n\nSent from my iPhone", "Here is another email"),
    ("sent_from_sentence", "Hi\n\nSent from my desk, is much easier then my mobile phone.", None),
    ("rfc_signature", "Thanks\n\n-- \nBob\nACME", "Thanks"),
    ("dash_in_sentence", "fix -- this is not a signature", None),
    ("bottom_post", "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello", "Hello"),
    ("not_a_header", "On the other hand, we should wait.\n\nSomething wrote:\nmore text", None),
    ("quote_only", "> only a quote", "> only a quote"),
    ("mobile_only", "Sent from my iPhone", "Sent from my iPhone"),
    ("trailing_junk", "Text\n\n--\n***\n====", "Text"),
    ("header_words_in_body", "Meeting notes:\nDate: Monday\nTo: everyone\nSubject: budget\n\nWe agreed.", None),
    ("dated_colon_line", "Order placed 2024-01-05 10:00 by bob@x.com:\n- item 1\n- item 2", None),
    ("wrote_in_url", "See https://example.com/on-date-someone-wrote-about-parsing\n\nBest,\nJo", None),
]


@pytest.mark.parametrize(("body", "visible"), [c[1:] for c in SPLIT_CASES], ids=[c[0] for c in SPLIT_CASES])
def test_split_reply_visible(body: str, visible: str | None) -> None:
    want = body.strip() if visible is None else visible
    assert split_reply(body).visible == want


def test_split_reply_parts() -> None:
    got = split_reply("Hello\n\n-- \nBob\n\nOn Mon, 2 Apr 2012 at 6:26 PM, A <a@b.c> wrote:\n> Hi\n")
    assert got.visible == "Hello"
    assert got.signature.startswith("--") and "Bob" in got.signature
    assert got.quoted.startswith("On Mon, 2 Apr 2012") and got.quoted.endswith("> Hi")
    assert got.visible_with_signature.split() == ["Hello", "--", "Bob"]


def test_inline_answers_are_kept_and_quotes_dropped() -> None:
    body = "On Tue, 1 Mar 2011 at 18:02, A <a@b.c> wrote:\n> q1?\n\nanswer one\n\n> q2?\n\nanswer two\n"
    assert split_reply(body).visible == "answer one\nanswer two"


def test_sender_named_signoff_is_a_signature() -> None:
    body = "Simone,\n\nIt works now.\n\nThank you,\nNoam\n"
    assert split_reply(body).visible.endswith("Noam")
    got = split_reply(body, "Noam <noam@example.com>")
    assert (got.visible, got.signature) == ("Simone,\n\nIt works now.", "Thank you,\nNoam")


def test_blank_input() -> None:
    assert split_reply("  \r\n ").visible == ""


# How fast these hostile bodies split (linear, not quadratic) is measured by bench/reply_split.py, not asserted here.
def test_long_hostile_lines_are_never_headers() -> None:
    body = "x\n" + ("On " + "1, " * 50_000 + "wrote\n") * 5 + ">" * 100_000
    assert split_reply(body).visible.startswith("x\nOn 1, 1")  # over-long lines are never headers


@pytest.mark.parametrize("line", ["plain words in a long body", "> quoted line", "- item", "Re: x:"])
def test_many_lines_keep_the_top(line: str) -> None:
    body = "Top\n\n" + "\n".join([line] * 10_000)
    assert split_reply(body).visible.startswith("Top")


_lines = st.lists(
    st.one_of(
        st.text(min_size=0, max_size=40),
        st.sampled_from(
            ["> quoted", "On Mon, 1 Jan 2024 at 10:00, A <a@b.c> wrote:", "-- ", "Sent from my iPhone",
             "From: a@b.c", "Sent: Monday", "To: x@y.z", "-----Original Message-----", "", "__", "ᐧ"]
        ),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(_lines, st.sampled_from(["\n", "\r\n"]))
def test_visible_is_never_empty_and_comes_from_input(lines: list[str], newline: str) -> None:
    body = newline.join(lines)
    got = split_reply(body)
    if not body.strip():
        assert got.visible == ""
        return
    assert got.visible
    for line in got.visible.split("\n"):
        assert line.strip() in body


HTML_GMAIL = (
    '<div dir="ltr">Hi. I am fine.<br><br>Thanks,<br>Alex</div><div class="gmail_extra"><br>'
    '<div class="gmail_quote">On Thu, Jun 26, 2014 at 2:14 PM, A &lt;a@example.com&gt; wrote:'
    "<blockquote>Hello! How are you?</blockquote></div></div>"
)


def test_html_to_text_keeps_breaks_and_drops_style() -> None:
    html = "<html><head><title>T</title><style>p{color:red}</style></head><body><p>One</p><div>Two<br>Three</div>"
    html += "<script>alert(1)</script><blockquote>Quoted</blockquote></body></html>"
    text = html_to_text(html)
    assert [line.strip() for line in text.split("\n") if line.strip()] == ["One", "Two", "Three", "Quoted"]
    assert "color" not in text and "alert" not in text and "T" not in text.split()


@pytest.mark.parametrize(
    ("html", "want"),
    [
        (HTML_GMAIL, "Hi. I am fine. Thanks, Alex"),
        ("<div>Reply</div><blockquote type='cite'>Old</blockquote>", "Reply"),
        ("<p>Reply</p><div id='divRplyFwdMsg'><b>From:</b> a</div><div>Old body</div>", "Reply"),
        ("<p>Reply</p><span id='OLK_SRC_BODY_SECTION'><div>Old</div></span>", "Reply"),
        ("<p>Reply</p><div class='moz-cite-prefix'>Bob wrote:</div><blockquote>Old</blockquote>", "Reply"),
        ("<div>Hi<div>there</div><div>Bob<hr><b>From: </b>b@x.com<br><b>To: </b>c@x.com</div></div>", "Hi there"),
        ("<p>Reply</p><div style='border:none;border-top:solid #B5C4DF 1.0pt'><p>From: X</p></div><p>Old</p>", "Reply"),
        ("<blockquote>Only a quote</blockquote>", "Only a quote"),
    ],
)
def test_html_to_text_without_quotes(html: str, want: str) -> None:
    assert " ".join(html_to_text_without_quotes(html).split()) == want
