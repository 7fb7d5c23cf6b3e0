"""Turn HTML mail bodies into readable plain text, optionally without the quoted history."""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning
from inscriptis import get_text

from channels.email import reply_patterns as P
from channels.email.reply import split_reply

_DROP_TAGS = ("script", "style", "head", "title", "meta", "link", "noscript", "template")
# Containers whose content, and everything after them, is quoted history.
_CUT_SELECTORS = (
    "#divRplyFwdMsg",  # Outlook on the web / new Outlook
    "#OLK_SRC_BODY_SECTION",  # Outlook for Mac
    "#appendonsend",  # Outlook marker placed right above the quoted message
    "div.gmail_quote",  # Gmail
    "div.gmail_quote_container",
    ".moz-cite-prefix",  # Thunderbird "On <date>, <name> wrote:" line
    "div.yahoo_quoted",  # Yahoo
    "div[name=quote]",  # Yahoo (old)
    "#isForwardContent",
    "div.zmail_extra",  # Zoho
)
# Outlook desktop draws a thin rule above the "From:/Sent:" block of the quoted message.
_OUTLOOK_RULE = re.compile(r"border-top:\s*solid\s+#(?:B5C4DF|E1E1E1)", re.I)
_BLANK_RUNS = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*){2,}")


def _soup(html: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html or "", "lxml")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    return soup


def _render(soup: BeautifulSoup) -> str:
    body = soup.body or soup
    text = get_text(str(body)) if body.get_text(strip=True) else ""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """HTML mail body to readable plain text; quoted blocks stay in, so text quote stripping can see them."""
    return _render(_soup(html))


def _cut_from(node: Tag) -> None:
    """Remove ``node`` and everything after it in document order."""
    current: Tag | None = node
    while current is not None and current.name not in ("body", "html", "[document]"):
        for sibling in list(current.next_siblings):
            sibling.extract()
        parent = current.parent
        if current is node:
            current.extract()
        current = parent


def _text_before(node: Tag) -> str:
    parent = node.parent
    chunks: list[str] = []
    for sibling in node.previous_siblings:
        chunks.append(sibling.get_text(" ", strip=True) if isinstance(sibling, Tag) else str(sibling).strip())
    return " ".join(chunk for chunk in chunks if chunk) if parent is not None else ""


def _hr_before_headers(soup: BeautifulSoup) -> Tag | None:
    """An <hr> directly followed by a "From:/Sent:" header block (a reply separator), if any."""
    for rule in soup.find_all("hr"):
        following: list[str] = []
        for element in rule.next_elements:
            if isinstance(element, str) and element.strip():
                following.append(element.strip())
            if len(following) >= 2:
                break
        if following and P.is_header_key(" ".join(following)):
            return rule
    return None


def _strip_quotes(soup: BeautifulSoup) -> None:
    for selector in _CUT_SELECTORS:
        for node in soup.select(selector):
            if node.parent is not None:
                _cut_from(node)
    for node in soup.find_all(style=_OUTLOOK_RULE):
        if node.parent is not None:
            _cut_from(node)
    rule = _hr_before_headers(soup)
    if rule is not None:
        # The block holding the rule is the quote's wrapper when little of the reply shares it.
        parent = rule.parent
        short_lead = parent is not None and parent.name not in ("body", "html") and len(_text_before(rule)) < 40
        _cut_from(parent if short_lead else rule)
    for quote in soup.find_all("blockquote"):
        if quote.parent is not None:
            quote.decompose()


def html_to_text_without_quotes(html: str) -> str:
    """HTML mail body to plain text without quoted history (blockquotes, Gmail/Outlook/Yahoo/Thunderbird
    quote containers, ``<hr>``-separated history, and any textual quote header left over).

    The sender's signature is kept. Falls back to the full text when removal would leave nothing.
    """
    soup = _soup(html)
    _strip_quotes(soup)
    text = _render(soup)
    if text:
        text = split_reply(text).visible_with_signature
    return text or html_to_text(html)
