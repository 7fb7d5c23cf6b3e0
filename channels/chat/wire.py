"""The chat gateway's request bodies and server frames, as validated models (no I/O)."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.chat import config
from channels.filenames import safe_filename

_EMAIL = re.compile(r"[^@\s<>\"]{1,64}@[^@\s<>\"]{1,255}\.[^@\s<>\"]{1,63}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]+")
_KEEP = {"\n", "\t"}


class FrameType(StrEnum):
    """What the server pushes to a visitor on the WebSocket."""

    agent_reply = "agent_reply"
    typing = "typing"
    system = "system"
    session_ended = "session_ended"


def plain_text(text: str) -> str:
    """Visitor or agent text as plain text: NFC, control and format characters removed (newlines and tabs kept).

    Markup is left as the characters it is: the widget renders text, never HTML.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))


class SessionRequest(BaseModel):
    """`POST /chat/{tenant}/sessions`: who the visitor says they are (optional, unverified)."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, max_length=config.MAX_NAME_CHARS)
    email: str | None = Field(default=None, max_length=320)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return (plain_text(value).replace("\n", " ").strip() or None) if value is not None else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _EMAIL.fullmatch(value.strip()):
            raise ValueError("not an email address")
        return value.strip().lower()


class AttachmentRef(BaseModel):
    """An attachment by reference: the file stays where the visitor's site uploaded it."""

    model_config = ConfigDict(extra="ignore")

    url: str = Field(max_length=2048, pattern=r"^https://\S+$")
    filename: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=100)
    size: int | None = Field(default=None, ge=0)

    @field_validator("filename")
    @classmethod
    def _filename(cls, value: str | None) -> str | None:
        return safe_filename(value)


class MessageRequest(BaseModel):
    """`POST /chat/{tenant}/messages`: one visitor message, idempotent by `client_message_id`."""

    model_config = ConfigDict(extra="ignore")

    client_message_id: str = Field(min_length=1, max_length=config.MAX_CLIENT_MESSAGE_ID)
    text: str = Field(max_length=config.MAX_TEXT_CHARS)
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=config.MAX_ATTACHMENTS)

    @field_validator("client_message_id")
    @classmethod
    def _client_id(cls, value: str) -> str:
        if not _CLIENT_ID.fullmatch(value):
            raise ValueError("use letters, digits and . _ : - only (a UUID is best)")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return plain_text(value).strip()


def first_error(exc) -> str:  # noqa: ANN001 - a pydantic ValidationError
    """One line naming the first invalid field."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"
