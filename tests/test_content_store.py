"""The local-disk content store (by sha256) and the attachment size gate, alone and through the email normalizer."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from pathlib import Path

import pytest

from channels.content_store import AttachmentKeeper, ContentMissing, LocalContentStore
from channels.email.normalize import normalize_email
from contracts.inbound import Attachment


def test_bytes_are_kept_under_their_sha256_once(tmp_path: Path) -> None:
    store = LocalContentStore(tmp_path / "content")
    data = b"%PDF-1.7 an invoice"
    sha = hashlib.sha256(data).hexdigest()
    first, again = store.put(data), store.put(data)
    assert first == again and first.sha256 == sha and first.size == len(data)
    path = tmp_path / "content" / sha[:2] / sha
    assert first.uri == path.as_uri() and path.read_bytes() == data
    assert store.get(sha) == data
    assert [p.name for p in path.parent.iterdir()] == [sha]  # no temporary file left behind


def test_a_missing_or_malformed_key_is_a_clear_error(tmp_path: Path) -> None:
    store = LocalContentStore(tmp_path)
    with pytest.raises(ContentMissing, match="no content stored under sha256 0{64}"):
        store.get("0" * 64)
    with pytest.raises(ValueError, match="not a sha256"):
        store.get("../../etc/passwd")


def test_the_keeper_stores_up_to_the_limit_and_says_why_it_keeps_nothing_above(tmp_path: Path) -> None:
    keep = AttachmentKeeper(LocalContentStore(tmp_path), max_bytes=10)
    kept = keep(b"0123456789", Attachment(filename="a.txt", size=10))
    assert kept.sha256 == hashlib.sha256(b"0123456789").hexdigest() and kept.uri and kept.dropped is None
    over = keep(b"0123456789A", Attachment(filename="b.txt", size=11))
    assert (over.sha256, over.uri) == (None, None)
    assert over.dropped == "11 bytes, over the 10-byte attachment limit: not kept"
    assert len(list(tmp_path.rglob("*"))) == 2  # one folder, one file


def test_the_normalizer_keeps_every_attachment_and_the_message_only_references_them(tmp_path: Path) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "ada@example.net", "support@alkonect.com", "Broken on arrival"
    mail["Date"], mail["Message-ID"] = "Mon, 02 Mar 2026 09:30:00 +0000", "<att-1@example.net>"
    mail.set_content("Photo and receipt attached.")
    photo, receipt = bytes(range(256)) * 40, b"receipt " * 100
    mail.add_attachment(photo, maintype="image", subtype="jpeg", filename="photo.jpg")
    mail.add_attachment(receipt, maintype="application", subtype="pdf", filename="../../receipt.pdf")
    store = LocalContentStore(tmp_path)
    message = normalize_email(mail.as_bytes(), tenant="alkonect", keep=AttachmentKeeper(store, max_bytes=5000))
    by_name = {a.filename: a for a in message.attachments}
    assert set(by_name) == {"photo.jpg", "receipt.pdf"}
    assert by_name["photo.jpg"].dropped == "10,240 bytes, over the 5,000-byte attachment limit: not kept"
    assert by_name["receipt.pdf"].sha256 == hashlib.sha256(receipt).hexdigest()
    assert store.get(by_name["receipt.pdf"].sha256) == receipt
    assert len(message.model_dump_json()) < 3000
    plain = normalize_email(mail.as_bytes(), tenant="alkonect")  # no store: metadata only, as before
    assert [(a.filename, a.size, a.sha256) for a in plain.attachments] == [("photo.jpg", 10240, None),
                                                                         ("receipt.pdf", 800, None)]
