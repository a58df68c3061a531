"""Validate uploaded avatars and re-encode them into small, clean WebP files.

Why this is stricter than "is it an image?":

- Security. The uploaded bytes are never stored. Every accepted image is decoded and re-encoded from its pixels, so
  EXIF (GPS position, camera serial), XMP, ICC and comment metadata, and any payload smuggled after or inside the
  image (polyglot HTML/JS/ZIP files) are dropped. The stored name is random, so the user's file name never reaches
  a URL.
- Resources. The file size is checked before anything is decoded, and the pixel dimensions are read from the header
  and checked *before* the pixel data is decoded, so a decompression bomb (a few KB declaring gigapixels) is refused
  without allocating its memory. Pillow's own bomb guard is kept as a second line, with its warning made an error.
- Format. The type is decided by Pillow parsing the bytes, restricted to PNG, JPEG, WebP and GIF; the file name
  extension and the browser's declared content type are ignored.

Every refusal is a ``ValidationError`` with a user-facing message and a ``code``; Pillow failures are caught
narrowly, so a hostile or broken file gives a form error, never a 500.
"""

import io
import math
import struct
import uuid
import warnings
from typing import NoReturn, Protocol

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_MAX_SIDE = 4000  # px, width and height
AVATAR_SIZE = 256  # stored avatars fit in AVATAR_SIZE x AVATAR_SIZE
AVATAR_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
AVATAR_QUALITY = 85

# Pillow names some variants of the accepted formats differently: a JPEG carrying extra pictures (many phone
# cameras write these) opens as "MPO". Only its first picture is used.
_FORMAT_ALIASES = {"MPO": "JPEG"}

# File signatures of the accepted formats. Used only to choose the message when Pillow cannot parse a file:
# "damaged" for something that starts like one of them, "not an image we accept" for anything else.
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")

# What Pillow raises for broken or hostile input (UnidentifiedImageError is an OSError, so it is caught first where
# it needs its own message). struct.error comes from reading truncated EXIF and headers.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)
_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


class Upload(Protocol):
    """What ``avatar_process`` needs from an upload: a django ``UploadedFile`` or any sized binary file object."""

    size: int | None

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


def avatar_process(upload: Upload) -> ContentFile:
    """Validate an uploaded file and return the re-encoded avatar.

    The result is a WebP ``ContentFile`` named ``<random hex>.webp``: the first frame of the upload, turned
    upright per its EXIF orientation, in RGB (or RGBA when the upload has transparency), scaled down to fit
    ``AVATAR_SIZE`` x ``AVATAR_SIZE`` (never up), without any metadata.

    Raises ``ValidationError`` with one of these codes: ``file_too_large``, ``empty_file``, ``invalid_image``
    (not a PNG/JPEG/WebP/GIF), ``damaged_image``, ``image_too_large`` (pixel dimensions, including
    decompression bombs).
    """
    data = _read_limited(upload)
    with warnings.catch_warnings():
        # Pillow only warns for images between MAX_IMAGE_PIXELS and twice that; refuse those too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Pillow warns about broken EXIF/TIFF tags it skips; that metadata is discarded anyway, so it is not news.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        with _open(data) as image:
            _check_dimensions(image.size)  # from the header: nothing has been decoded yet
            webp = _reencode(image)
    return ContentFile(webp, name=f"{uuid.uuid4().hex}.webp")


def _read_limited(upload: Upload) -> bytes:
    """Return the upload's bytes, refusing it before reading when its declared size is over the limit."""
    declared = getattr(upload, "size", None)
    if declared is not None and declared > AVATAR_MAX_BYTES:
        _refuse_file_size(declared)
    upload.seek(0)
    data = upload.read(AVATAR_MAX_BYTES + 1)  # never more than the limit, whatever ``size`` claimed
    if len(data) > AVATAR_MAX_BYTES:
        _refuse_file_size(max(len(data), declared or 0))
    if not data:
        raise ValidationError(_("The file is empty."), code="empty_file")
    return data


def _open(data: bytes) -> Image.Image:
    """Parse the header only (Pillow's ``open`` is lazy) and make sure the format is one we accept."""
    try:
        image = Image.open(io.BytesIO(data), formats=sorted(AVATAR_FORMATS))
    except _BOMB_ERRORS:
        _refuse_bomb()
    except UnidentifiedImageError:
        if _looks_like_accepted_format(data):
            _refuse_damaged()
        _refuse_format()
    except _DECODE_ERRORS:
        _refuse_damaged()
    if _FORMAT_ALIASES.get(image.format or "", image.format) not in AVATAR_FORMATS:  # belt and braces
        image.close()
        _refuse_format()
    return image


def _reencode(image: Image.Image) -> bytes:
    """Decode the first frame and write it out again as a small WebP without metadata."""
    try:
        image.seek(0)
        # JPEG only (a no-op for the others): let libjpeg decode at 1/2, 1/4 or 1/8 scale when the image is large.
        image.draft(None, (AVATAR_SIZE, AVATAR_SIZE))
        image.load()
        _check_dimensions(image.size)  # a GIF frame may extend the canvas while loading
        frame = ImageOps.exif_transpose(image)  # a new, single-frame image
        if frame.mode.startswith("I"):  # 16-bit greyscale PNG: scale to 8 bits, as converting would clip
            frame = frame.point(lambda value: value / 256).convert("L")
        frame = frame.convert("RGBA" if frame.has_transparency_data else "RGB")
        frame.info = {}  # no EXIF, XMP, ICC or comments; the WebP writer must have nothing to copy
        frame.thumbnail((AVATAR_SIZE, AVATAR_SIZE))
        out = io.BytesIO()
        frame.save(out, format="WEBP", quality=AVATAR_QUALITY)
    except _BOMB_ERRORS:
        _refuse_bomb()
    except _DECODE_ERRORS:
        _refuse_damaged()
    return out.getvalue()


def _check_dimensions(size: tuple[int, int]) -> None:
    # The messages here and in _refuse_bomb use a real multiplication sign, hence the RUF001 exemptions.
    width, height = size
    if width > AVATAR_MAX_SIDE or height > AVATAR_MAX_SIDE:
        raise ValidationError(
            _("The image is %(width)d×%(height)d pixels; an avatar can be at most %(max)d×%(max)d pixels."),  # noqa: RUF001
            code="image_too_large",
            params={"width": width, "height": height, "max": AVATAR_MAX_SIDE},
        )


def _looks_like_accepted_format(data: bytes) -> bool:
    return data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _megabytes(size: int) -> str:
    """``size`` in MB, rounded up to one decimal so that a file over the limit never reads as equal to it."""
    value = math.ceil(size * 10 / (1024 * 1024)) / 10
    return f"{value:.0f}" if value.is_integer() else f"{value:.1f}"


def _refuse_file_size(size: int) -> NoReturn:
    raise ValidationError(
        _("Your file is %(size)s MB; an avatar can be at most %(max)s MB."),
        code="file_too_large",
        params={"size": _megabytes(size), "max": _megabytes(AVATAR_MAX_BYTES)},
    )


def _refuse_format() -> NoReturn:
    raise ValidationError(_("That file is not a PNG, JPEG, WebP or GIF image."), code="invalid_image")


def _refuse_damaged() -> NoReturn:
    raise ValidationError(_("The image file is damaged or incomplete."), code="damaged_image")


def _refuse_bomb() -> NoReturn:
    raise ValidationError(
        _("The image has far too many pixels; an avatar can be at most %(max)d×%(max)d pixels."),  # noqa: RUF001
        code="image_too_large",
        params={"max": AVATAR_MAX_SIDE},
    )
