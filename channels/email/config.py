"""Email channel settings: a tenant's mailbox URLs (IMAP in, SMTP out), parsed without ever showing the password."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from contracts.adapters import SecretSpec
from contracts.errors import ConfigError

SECRETS = (
    SecretSpec("imap_url", "{TENANT}_IMAP_URL"),
    SecretSpec("smtp_url", "{TENANT}_SMTP_URL"),
)
NATIVE_INPUT = "an RFC 5322 message (.eml)"

_IMAP_PORTS = {"imaps": 993, "imap": 143}
_SMTP_PORTS = {"smtps": 465, "smtp": 587}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class MailServerUrl:
    """A parsed `imap(s)://` or `smtp(s)://` URL. `repr` and `where` never show the password."""

    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    tls: bool  # implicit TLS from the first byte (imaps, smtps)
    starttls: bool | None  # True: upgrade required; False: never; None: the client's default (SMTP: opportunistic)
    path: str  # IMAP: the folder; SMTP: unused
    options: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def where(self) -> str:
        """`user@host:port` for messages and logs."""
        return f"{self.user + '@' if self.user else ''}{self.host}:{self.port}"


def parse_imap_url(value: str, variable: str) -> MailServerUrl:
    """`imaps://user:pass@host[:993]/Folder`, `imap://...[?starttls=1]`; `?processed=Folder` moves taken mail there."""
    url = _parse(value, variable, _IMAP_PORTS, "imaps://user:password@imap.example.com:993/INBOX")
    if not url.user or url.password is None:
        raise ConfigError(f"{variable}: the URL needs a user and password (imaps://user:password@host/INBOX; "
                          "percent-encode @ and : inside them)")
    return url


def parse_smtp_url(value: str, variable: str) -> MailServerUrl:
    """`smtps://user:pass@host[:465]` or `smtp://[user:pass@]host[:587][?starttls=1]`."""
    return _parse(value, variable, _SMTP_PORTS, "smtps://user:password@smtp.example.com:465")


def _parse(value: str, variable: str, ports: dict[str, int], example: str) -> MailServerUrl:
    def bad(why: str) -> ConfigError:
        return ConfigError(f"{variable} is malformed: {why}; write it like {example}")

    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:  # a bad port or bracket; the parser's text may quote a piece of the password: not shown
        raise bad("the host or port cannot be read (percent-encode / @ : in the user and password)") from None
    scheme = parts.scheme.lower()
    if scheme not in ports:
        raise bad(f"the scheme must be one of {', '.join(s + '://' for s in ports)}, not {scheme or 'none'!r}")
    if not parts.hostname:
        raise bad("it names no host")
    query = {k.lower(): v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    starttls = _flag(query.get("starttls"), lambda: bad("starttls must be 1 or 0"))
    tls = scheme.endswith("s")
    if tls and starttls:
        raise bad(f"{scheme}:// is TLS already; starttls=1 is for {scheme[:-1]}://")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return MailServerUrl(scheme=scheme, host=parts.hostname, port=port or ports[scheme],
                         user=unquote(parts.username) if parts.username else None,
                         password=unquote(parts.password) if parts.password is not None else None,
                         tls=tls, starttls=starttls, path=folder, options=query)


def _flag(text: str | None, error) -> bool | None:
    if text is None:
        return None
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise error()
