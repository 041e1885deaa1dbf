"""The outbox: messages as files, for dry runs and for sites without SMTP."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from digest.errors import DeliveryError


def _file_safe(text: str) -> str:
    """A file name for an address or edition id; a hash keeps altered names distinct."""
    safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", text)
    if safe != text or safe.startswith("."):
        safe = f"{safe.lstrip('.')}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
    return safe


class DirectoryTransport:
    """Messages as files: ``OUTBOX/EDITION/ADDRESS.eml``, or one Maildir at OUTBOX.

    Each file is written under a temporary name and renamed into place, so a
    file that exists is complete: after a crash, its presence says whether
    the message was delivered.
    """

    rate = None

    def __init__(self, root: Path, layout: str = "eml"):
        self.root = root
        self.layout = layout
        kind = "a Maildir" if layout == "maildir" else ".eml files"
        self.description = f"directory {root} ({kind})"

    def _target(self, edition_id: str, recipient: str, message_id: str) -> tuple[Path, Path]:
        if self.layout == "maildir":
            name = hashlib.sha256(message_id.encode("ascii")).hexdigest()[:40] + ".digest"
            return self.root / "tmp" / name, self.root / "new" / name
        folder = self.root / _file_safe(edition_id)
        name = _file_safe(recipient) + ".eml"
        return folder / f".{name}.tmp", folder / name

    def deliver(
        self,
        envelope_from: str,
        recipient: str,
        message: bytes,
        *,
        edition_id: str,
        message_id: str,
        commit: Callable[[], None],
    ) -> str:
        """The atomic rename settles every crash (delivered_before)."""
        tmp, final = self._target(edition_id, recipient, message_id)
        try:
            if self.layout == "maildir":
                for sub in ("tmp", "new", "cur"):
                    (self.root / sub).mkdir(parents=True, exist_ok=True)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(message)
            commit()
            os.replace(tmp, final)
        except OSError as exc:
            raise DeliveryError(f"cannot write {final}: {exc}") from None
        return f"written to {final}"

    def delivered_before(self, edition_id: str, recipient: str, message_id: str) -> bool | None:
        _, final = self._target(edition_id, recipient, message_id)
        if final.exists():
            return True
        # A mail client moves read messages from new/ to cur/, adding flags.
        return self.layout == "maildir" and any((self.root / "cur").glob(final.name + "*"))

    def close(self) -> None:
        return None
