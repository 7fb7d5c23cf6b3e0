"""Line-level recognisers for reply parsing: quote headers, header blocks, forward markers, signatures.

Every pattern here is applied to one line (or a few joined lines) cut to ``MAX_SCAN`` characters, and
none nests quantifiers, so matching stays linear however hostile the input is.
"""

from __future__ import annotations

import re

MAX_SCAN = 500  # characters of a line (or of a joined header) that the recognisers look at

_I = re.IGNORECASE

# "wrote" in the languages mail clients localise their quote headers into.
_WROTE = (
    r"wrote|writes|a écrit|écrit|schrieb|geschreven|schreef|ha scritto|scritto|escribió|escreveu|"
    r"ha escrit|escrit|napisał|napisała|napisal|написал|написала|написав|пише|kirjoitti|skrev|"
    r"写道|寫道|작성|のメッセージ|írta|pisze|napsal|scrise|yazdı|έγραψε"
)
_WROTE_RE = re.compile(rf"(?:{_WROTE})", _I)
_WROTE_END_RE = re.compile(rf"(?:{_WROTE})(?:\s*\(a\))?\s*[:：]?\s*-*\s*$", _I)
_COLON_END_RE = re.compile(r"[:：]\s*-*\s*$")
_EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+\.[\w.-]+")
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_TIME_RE = re.compile(r"(?<!\d)\d{1,2}[:.h]\d\d(?!\d)")
_DMY_RE = re.compile(r"(?<!\d)\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?!\d)")
_LEADING_DATE_RE = re.compile(r"^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b")
_GMT_RE = re.compile(r"\bGMT[+-]?\d*", _I)
_ANGLE_EMAIL_END_RE = re.compile(r"<[^<>\s]+@[^<>\s]+>\s*$")
_ANGLE_EMAIL_COLON_END_RE = re.compile(r"<\s*(?:mailto:)?[^<>\s]+@[^<>\s]+>\s*[:：]\s*$")
# Words quote headers open with ("On ... wrote:", "Le ... a écrit :", "Am ... schrieb ...").
_OPENER_RE = re.compile(
    r"^\s*[-*>]?\s*(?:On|Le|Am|El|Em|Il|In data|Op|Den|W dniu|Dnia|At|Às|Ved|På|Dne|Dana|在)\s"
)
_SENTENCE_END_RE = re.compile(r"(?:[^\W\d_]{4}\.|[!?])\s*$")

_FROM_KEYS = (
    r"From|Von|De|Van|Da|Fra|Från|Od|Від|От|Lähettäjä|Feladó|Kimden|Expéditeur|Remitente|"
    r"发件人|寄件者|差出人|보낸 사람|Message du"
)
_OTHER_KEYS = (
    r"Sent|Date|To|Cc|Bcc|Subject|Reply-To|Gesendet|An|Betreff|Datum|Envoyé(?: le)?|À|A|Objet|Copie à|"
    r"Sujet|Inviato|Oggetto|Data|Risposta|Verzonden|Aan|Onderwerp|Enviado(?: el)?|Para|Asunto|Fecha|"
    r"Skickat|Till|Ämne|Sendt|Til|Emne|Dato|Wysłano|Do|Temat|Отправлено|Кому|Тема|Дата|"
    r"Lähetetty|Vastaanottaja|Aihe|发送时间|发送日期|收件人|主题|日期|送信日時|宛先|件名|보낸 날짜|받는 사람|제목"
)
_KEY_TEMPLATE = r"^\s*[>*_\s]{{0,4}}(?:{keys})[*_]{{0,2}}\s?[:：]"
_FROM_KEY_RE = re.compile(_KEY_TEMPLATE.format(keys=_FROM_KEYS), _I)
_ANY_KEY_RE = re.compile(_KEY_TEMPLATE.format(keys=f"{_FROM_KEYS}|{_OTHER_KEYS}"), _I)

_FORWARD_WORDS = (
    r"Forwarded message|Original Message|Ursprüngliche Nachricht|Weitergeleitete Nachricht|"
    r"Mensaje original|Mensaje reenviado|Message d'origine|Message transféré|Messaggio originale|"
    r"Messaggio inoltrato|Oorspronkelijk bericht|Doorgestuurd bericht|Oprindelig besked|"
    r"Videresendt meddelelse|Opprinnelig melding|Ursprungligt meddelande|Vidarebefordrat meddelande|"
    r"Mensagem original|Mensagem encaminhada|Původní zpráva|Wiadomość oryginalna|Исходное сообщение|"
    r"Пересылаемое сообщение|Alkuperäinen viesti|Eredeti üzenet|原始邮件|転送されたメッセージ"
)
_FORWARD_RE = re.compile(
    rf"^\s*[>*_\s]{{0,4}}[-=_]{{0,20}}\s*(?:{_FORWARD_WORDS}|Begin forwarded message)\s*:?\s*[-=_]{{0,20}}[*_]{{0,2}}\s*$",
    _I,
)
# Any short text framed by runs of dashes: "---- On ... wrote ----", "-------- Oprindelig besked --------".
_FRAMED_RE = re.compile(r"^\s*[*_]{0,2}-{2,}\s*[^\s-][^-]{1,120}[^\s-]\s*-{2,}[*_]{0,2}\s*$")
_SEPARATOR_RE = re.compile(r"^\s*[*]{0,2}(?:-{3,}|_{3,}|={3,}|\*{3,})[*]{0,2}\s*$")

_MOBILE_WORD = r"(?:\[[^\]\n]{1,40}\]\([^)\s]{1,200}\)|[\w.'&+-]+)"
_MOBILE_TAIL = r"(?:\s*<[^>\s]{1,200}>|\s*\([^)\s]{1,200}\))?(?:[.,]\s*please excuse.{0,60})?\s*[.!]?"
_MOBILE_RES = [
    re.compile(
        rf"^\s*[(<]{{0,2}}\s*(?:sent|envoyé|gesendet|enviado|inviato|verzonden|verstuurd|sendt|skickat|wysłane)\s+"
        rf"(?:from|via|with|using|by|depuis|de|à partir de|von|desde|do|da|dal|met|vanaf|fra|från|z)\s+"
        rf"(?:my |mon |mi |meu |mijn |min |mio |mein |meinem |mojego )?(?!(?:a|an|the) ){_MOBILE_WORD}(?:\s{{1,2}}{_MOBILE_WORD}){{0,5}}"
        rf"{_MOBILE_TAIL}[)>]{{0,2}}\s*$",
        _I,
    ),
    re.compile(r"^\s*get (?:\[)?outlook for (?:ios|android)\b.{0,200}$", _I),
    re.compile(r"^\s*von meine(?:m|n) [\w -]{1,40} gesendet\.?\s*$", _I),
    re.compile(r"^\s*diese nachricht wurde von meinem .{1,80} gesendet\.?\s*$", _I),
    re.compile(r"^\s*(?:從我的|发自我的|來自我的)\s?[\w ]{1,30}(?:傳送|发送)?\s*$", _I),
    re.compile(r"^\s*[\w ]{1,20}から送信\s*$", _I),
    re.compile(r"^\s*отправлено (?:с|из) .{1,60}$", _I),
]
_RFC_SIG_RE = re.compile(r"^(?:--|-- |—-)\s*$")
_UNDERSCORE_SIG_RE = re.compile(r"^\s*_{2,}\s*$")
_DASH_NAME_RE = re.compile(r"^\s*-{1,2}[^\W\d_][\w.'’ -]{0,40}$")
_CLOSING_RE = re.compile(
    r"^\s*(?:thanks?(?: you)?(?: so much)?|many thanks|thx|cheers|best|regards|kind regards|best regards|"
    r"warm regards|sincerely|yours(?: truly)?|cordially|respectfully|merci|danke|grüße|saludos|cordialement)"
    r"[ ,.!]{0,3}$",
    _I,
)
_HAS_WORD_RE = re.compile(r"[^\W_]")
_JUNK_CHARS = "\u1427\u200b\u200c\u200d\ufeff"


def scan(line: str) -> str:
    """The part of a line the recognisers look at."""
    return line[:MAX_SCAN]


def is_quote_line(line: str) -> bool:
    return line[:MAX_SCAN].lstrip().startswith(">")


def is_forward_marker(line: str) -> bool:
    text = scan(line)
    return bool(_FORWARD_RE.match(text) or _FRAMED_RE.match(text))


def is_separator(line: str) -> bool:
    return bool(_SEPARATOR_RE.match(scan(line)))


def is_from_key(line: str) -> bool:
    return bool(_FROM_KEY_RE.match(scan(line)))


def is_header_key(line: str) -> bool:
    return bool(_ANY_KEY_RE.match(scan(line)))


def can_start_header(line: str) -> bool:
    """Whether a line could be the first line of a wrapped "On ... wrote:" header."""
    text = scan(line)
    return bool(
        _OPENER_RE.match(text)
        or text.lstrip()[:1].isdigit()
        or _YEAR_RE.search(text)
        or _TIME_RE.search(text)
        or "@" in text
        or "<" in text
    )


def starts_with_opener(line: str) -> bool:
    return bool(_OPENER_RE.match(scan(line)))


def ends_sentence(line: str) -> bool:
    return bool(_SENTENCE_END_RE.search(scan(line)))


def has_time(line: str) -> bool:
    return bool(_TIME_RE.search(scan(line)))


def is_quote_header(joined: str) -> bool:
    """Whether text (a line or several joined with spaces) is a reply header like "On <date>, <x> wrote:"."""
    text = joined.strip()
    if not text or len(text) > MAX_SCAN:
        return False
    dated = bool(_YEAR_RE.search(text) or _DMY_RE.search(text) or _TIME_RE.search(text))
    addressed = bool(_EMAIL_RE.search(text))
    if _WROTE_END_RE.search(text):
        return dated or addressed
    if _COLON_END_RE.search(text):
        if _WROTE_RE.search(text):
            return dated or addressed
        return dated and bool(_ANGLE_EMAIL_COLON_END_RE.search(text))
    if _LEADING_DATE_RE.match(text):
        return bool(_GMT_RE.search(text) or _ANGLE_EMAIL_END_RE.search(text))
    return False


def is_mobile_signature(line: str) -> bool:
    text = scan(line).strip()
    return 0 < len(text) <= 300 and any(p.match(text) for p in _MOBILE_RES)


def is_rfc_signature(line: str) -> bool:
    return bool(_RFC_SIG_RE.match(scan(line)))


def is_underscore_signature(line: str) -> bool:
    return bool(_UNDERSCORE_SIG_RE.match(scan(line)))


def is_dash_name(line: str) -> bool:
    text = scan(line).strip()
    return bool(_DASH_NAME_RE.match(text)) and len(text.split()) <= 4


def is_closing(line: str) -> bool:
    return bool(_CLOSING_RE.match(scan(line)))


def is_blank(line: str) -> bool:
    return not line.strip(" \t\u00a0" + _JUNK_CHARS)


def is_junk(line: str) -> bool:
    """A line with nothing to read: blank, or only punctuation and tracking marks."""
    return not _HAS_WORD_RE.search(scan(line).replace("\u1427", ""))



_HEADER_END_RE = re.compile(rf"(?:[:：]|{_WROTE}|>)\s*-*\s*$", _I)


def may_end_header(line: str) -> bool:
    """Cheap pre-check: could this line be the last line of a quote header?"""
    text = scan(line)
    return bool(_HEADER_END_RE.search(text) or _LEADING_DATE_RE.match(text))
