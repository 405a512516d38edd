"""What a page's QR code says (form, version, page, serial, fingerprint) and its printed text form."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.base import config as C


@dataclass(frozen=True)
class PageIdentity:
    """What the page code says: form, version, page number and (for serialised copies) the sheet serial."""

    form: str
    version: int
    page: int
    serial: str | None = None
    fingerprint: str = ""       # start of the version's content hash (`version_fingerprint`)


def version_fingerprint(layout_hash: str) -> str:
    """What the page code carries of a form version's content hash (config.QR_FINGERPRINT_CHARS hex digits)."""
    return layout_hash[: C.QR_FINGERPRINT_CHARS]


def format_page_code(identity: PageIdentity) -> str:
    """The QR payload printed on every page: "ANK1/<form>/<version>/<page>/<serial or ->/<fingerprint>"."""
    return (f"{C.QR_PREFIX}/{identity.form}/{identity.version}/{identity.page}/{identity.serial or '-'}/"
            f"{identity.fingerprint}")


def parse_page_code(payload: str) -> PageIdentity | None:
    """Inverse of format_page_code; None when the payload is not one of our page codes."""
    parts = payload.strip().split("/")
    if (len(parts) != 6 or parts[0] != C.QR_PREFIX or not parts[2].isdigit() or not parts[3].isdigit()
            or len(parts[5]) != C.QR_FINGERPRINT_CHARS or not all(c in "0123456789abcdef" for c in parts[5])):
        return None
    return PageIdentity(parts[1], int(parts[2]), int(parts[3]), None if parts[4] == "-" else parts[4], parts[5])
