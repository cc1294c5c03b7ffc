"""Rules for sender names and supporting documents (no database access here)."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# What operators accept as an alphanumeric sender (OVH: maxlength 11, /^[\w\s\-.,&+]+$/).
SENDER_MAX_LENGTH = 11
SENDER_CHARS = re.compile(r"^[A-Za-z0-9 \-.,&+]+$")
NOT_SENDER_CHARS = re.compile(r"[^A-Za-z0-9 \-.,&+]+")
LETTER = re.compile(r"[A-Za-z]")

NO_PHONE_NUMBERS = _("Mobile operators forbid sending SMS with phone numbers as the sender.")

# Supporting documents (OVH: application/pdf, image/jpeg, image/png; 10,000,000 bytes; 10 files).
MAX_DOCUMENTS = 10
MAX_DOCUMENT_SIZE = 10_000_000
# Recognised by their first bytes, never by the name the browser sent.
SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
]
EXTENSIONS = {content_type: ext for _magic, content_type, ext in SIGNATURES}


def validate_sender_name(value: str) -> None:
    if len(value) > SENDER_MAX_LENGTH:
        raise ValidationError(
            _("The sender cannot exceed %(max)s characters."),
            code="max_length",
            params={"max": SENDER_MAX_LENGTH},
        )
    if not SENDER_CHARS.match(value):
        raise ValidationError(
            _("The sender may only contain letters, digits, spaces and the characters - . , & +"),
            code="charset",
        )
    if not LETTER.search(value):
        raise ValidationError(NO_PHONE_NUMBERS, code="no_letter")


def sender_from_text(text: str) -> str:
    """A sender name made from free text (a company, a person's name): accents dropped,
    other characters removed, at most 11 characters cut at a word when possible.
    Empty when nothing usable is left (no letter)."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    cleaned = " ".join(NOT_SENDER_CHARS.sub(" ", ascii_text).split())
    if len(cleaned) > SENDER_MAX_LENGTH:
        head = cleaned[: SENDER_MAX_LENGTH + 1]
        cut = head.rfind(" ")
        cleaned = head[:cut] if cut > 0 else cleaned[:SENDER_MAX_LENGTH]
        cleaned = cleaned.rstrip(" -.,&+")
    return cleaned if LETTER.search(cleaned) else ""


DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_domain(value: str) -> str:
    name = (value or "").strip().lower().removesuffix(".")
    name = name.removeprefix("http://").removeprefix("https://").removeprefix("www.")
    if not DOMAIN.match(name):
        raise ValidationError(_("Enter a domain name such as example.com."), code="invalid_domain")
    return name


def sender_from_domain(name: str) -> str:
    """The sender a domain gives: the name without its extension ("ma-boutique.fr" ->
    "ma-boutique"); empty when that is longer than 11 characters."""
    label = name.rsplit(".", 1)[0]
    try:
        validate_sender_name(label)
    except ValidationError:
        return ""
    return label


def sniff_content_type(upload) -> str | None:
    """The document type read from the file's first bytes, or None when not accepted."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for magic, content_type, _ext in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


# Scans of A4 pages at 600 dpi are about 35 million pixels; Pillow refuses (as a decompression
# bomb) only past twice its own 89 million warning level.
MAX_IMAGE_PIXELS = 50_000_000


def opens_as(upload, content_type: str) -> bool:
    """Whether the file is a document of `content_type` that opens: a PDF with at least one
    page that pypdf reads without a password, an image Pillow identifies as that format with
    sound structure. Staff open these files: a file that only starts like a PDF is refused."""
    upload.seek(0)
    try:
        if content_type == "application/pdf":
            from pypdf import PdfReader

            reader = PdfReader(upload)
            if reader.is_encrypted:
                return False
            return len(reader.pages) > 0
        from PIL import Image

        expected = {"image/jpeg": "JPEG", "image/png": "PNG"}[content_type]
        with Image.open(upload) as image:
            if image.format != expected:
                return False
            width, height = image.size
            if not 0 < width * height <= MAX_IMAGE_PIXELS:
                return False
            image.verify()  # chunk checksums of a PNG, markers of a JPEG; nothing decoded
        return True
    except Exception:  # noqa: BLE001 - any parser error: a damaged or hostile file
        return False
    finally:
        upload.seek(0)


def document_type(upload) -> str | None:
    """The content type of an accepted supporting document (PDF, JPEG, PNG), read from its
    bytes and checked by opening it; None otherwise. The name the browser sent plays no part."""
    content_type = sniff_content_type(upload)
    if content_type is None or not opens_as(upload, content_type):
        return None
    return content_type
