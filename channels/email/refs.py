"""Threading references: Message-ID lists, reply+token addresses, the conversation key."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from email.message import Message

from channels.email.headers import raw_values
from contracts.inbound import ReplyRefs

_ANGLED = re.compile(r"<([^<>\s]+)>")
_TOKEN = re.compile(
    r"^reply\+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@", re.IGNORECASE
)


def message_ids(value: str | None) -> list[str]:
    """Ids in a Message-ID / In-Reply-To / References value, brackets stripped, deduped, in order."""
    if not value:
        return []
    found = _ANGLED.findall(value)
    if not found:
        found = [t.strip("<>") for t in re.split(r"[\s,]+", value) if "@" in t or len(t) > 3]
    return list(dict.fromkeys(i.strip() for i in found if i.strip()))


def header_ids(msg: Message, name: str) -> list[str]:
    """message_ids over every occurrence of header `name`."""
    out: list[str] = []
    for value in raw_values(msg, name):
        out.extend(message_ids(value))
    return list(dict.fromkeys(out))


def thread_token(addresses: Iterable[str]) -> str | None:
    """The uuid of the first reply+<uuid>@ address, lower-cased."""
    for address in addresses:
        match = _TOKEN.match(address.strip())
        if match:
            return match.group(1).lower()
    return None


def reply_refs(msg: Message, recipients: Iterable[str]) -> ReplyRefs:
    """Message-ID, In-Reply-To, References and the reply-address token of a message."""
    own = header_ids(msg, "Message-ID")
    in_reply_to = header_ids(msg, "In-Reply-To")
    return ReplyRefs(
        message_id=own[0] if own else None,
        in_reply_to=in_reply_to,
        references=header_ids(msg, "References"),
        thread_token=thread_token([*recipients, *in_reply_to]),
    )


def conversation_key(refs: ReplyRefs, sender: str, subject: str | None) -> str:
    """The thread root: first References id, else In-Reply-To, else own id, else sender+subject hash."""
    for candidates in (refs.references, refs.in_reply_to):
        if candidates:
            return candidates[0]
    if refs.message_id:
        return refs.message_id
    digest = hashlib.sha256(f"{sender.lower()}\x1f{normalized_subject(subject)}".encode()).hexdigest()
    return f"sha256:{digest[:32]}"


_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|tr|antw|rif|r)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def normalized_subject(subject: str | None) -> str:
    """Subject without Re:/Fwd: style prefixes, whitespace collapsed, case-folded."""
    text = _REPLY_PREFIX.sub("", subject or "")
    return " ".join(text.split()).casefold()


def is_forward_subject(subject: str | None) -> bool:
    """Whether the subject carries a forward prefix (Fwd:, Fw:, WG:, TR:, [Fwd: ...])."""
    return bool(re.match(r"^\s*\[?\s*(fwd?|wg|tr|rv|enc)\s*:", subject or "", re.IGNORECASE))
