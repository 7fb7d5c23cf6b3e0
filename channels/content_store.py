"""Attachment bytes kept by reference: a local-disk content store (by sha256) and the size gate in front of it."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from contracts.errors import OmnirouteError
from contracts.inbound import Attachment
from contracts.ports import ContentStore, StoredContent

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ContentMissing(OmnirouteError, KeyError):
    """No content is stored under that sha256."""


class LocalContentStore:
    """Files under `root/<sha256[:2]>/<sha256>`, written to a temporary name, fsynced, then renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> StoredContent:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha256)
        if not (path.is_file() and path.stat().st_size == len(data)):  # equal bytes are kept once
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredContent(uri=path.as_uri(), sha256=sha256, size=len(data))

    def get(self, sha256: str) -> bytes:
        try:
            return self.path_for(sha256).read_bytes()
        except FileNotFoundError:
            raise ContentMissing(f"no content stored under sha256 {sha256} in {self.root}") from None


@dataclass(frozen=True)
class AttachmentKeeper:
    """Keeps an attachment's bytes in `store` and returns it with their reference; over `max_bytes` it keeps
    nothing and returns it with the reason in `dropped` (the mail itself is still taken in)."""

    store: ContentStore
    max_bytes: int

    def __call__(self, data: bytes, attachment: Attachment) -> Attachment:
        if len(data) > self.max_bytes:
            return attachment.model_copy(update={
                "dropped": f"{len(data):,} bytes, over the {self.max_bytes:,}-byte attachment limit: not kept"})
        stored = self.store.put(data)
        return attachment.model_copy(update={"sha256": stored.sha256, "uri": stored.uri})
