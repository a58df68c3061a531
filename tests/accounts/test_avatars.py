"""Avatar uploads: what is accepted, how it is re-encoded, and what is refused with which message."""

import io
import re
import struct
import warnings
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from accounts.avatars import AVATAR_MAX_BYTES, AVATAR_SIZE, avatar_process

ORIENTATION = 0x0112
MODEL = 0x0110
GPS_IFD = 0x8825

NOT_AN_IMAGE = "That file is not a PNG, JPEG, WebP or GIF image."
DAMAGED = "The image file is damaged or incomplete."
TOO_MANY_PIXELS = "The image has far too many pixels; an avatar can be at most 4000×4000 pixels."  # noqa: RUF001


def encode(image: Image.Image, image_format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def upload(data: bytes, name: str = "avatar.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def decode(result: ContentFile) -> Image.Image:
    result.seek(0)
    image = Image.open(io.BytesIO(result.read()))
    image.load()
    return image


def refusal(data: bytes, name: str = "avatar.png") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        avatar_process(upload(data, name))
    return caught.value


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG start declaring ``width`` x ``height`` 1-bit pixels, with almost no pixel data: a bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def webp_chunk_kinds(data: bytes) -> set[bytes]:
    """The RIFF chunk FourCCs of a WebP file (metadata would be EXIF, XMP or ICCP chunks)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    kinds, offset = set(), 12
    while offset + 8 <= len(data):
        kind, length = data[offset : offset + 4], struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        kinds.add(kind)
        offset += 8 + length + (length & 1)
    return kinds


def two_colour_image(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows both the aspect ratio and which way the picture was turned."""
    width, height = size
    image = Image.new(mode, size, "blue")
    image.paste(Image.new(mode, (width // 2, height), "red"), (0, 0))
    return image


def is_red(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


def is_blue(pixel: tuple[int, ...]) -> bool:
    return pixel[0] < 60 and pixel[1] < 60 and pixel[2] > 200


# Accepted images


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP", "GIF"])
def test_each_accepted_format_is_reencoded_as_webp_fitting_the_avatar_box(image_format: str) -> None:
    data = encode(two_colour_image((600, 300)), image_format)

    avatar = decode(avatar_process(upload(data)))

    assert avatar.format == "WEBP"
    assert avatar.size == (AVATAR_SIZE, AVATAR_SIZE // 2)  # fits 256x256, 2:1 kept
    assert avatar.mode == "RGB"
    assert is_red(avatar.getpixel((10, 64)))
    assert is_blue(avatar.getpixel((245, 64)))


def test_portrait_image_is_scaled_to_the_box_height() -> None:
    data = encode(Image.new("RGB", (300, 900), "green"), "PNG")

    assert decode(avatar_process(upload(data))).size == (AVATAR_SIZE // 3, AVATAR_SIZE)


def test_small_image_is_not_upscaled() -> None:
    data = encode(Image.new("RGB", (40, 30), "green"), "PNG")

    assert decode(avatar_process(upload(data))).size == (40, 30)


def test_image_at_the_dimension_limit_is_accepted() -> None:
    data = encode(Image.new("L", (4000, 10)), "PNG")

    assert decode(avatar_process(upload(data))).size == (AVATAR_SIZE, 1)


def test_rgba_png_keeps_its_transparency() -> None:
    image = Image.new("RGBA", (100, 100), (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 50, 100))  # left half fully transparent
    data = encode(image, "PNG")

    avatar = decode(avatar_process(upload(data)))

    assert avatar.mode == "RGBA"
    assert avatar.getpixel((10, 50))[3] == 0
    assert avatar.getpixel((90, 50))[3] == 255


def test_palette_gif_transparency_is_kept() -> None:
    image = Image.new("P", (20, 20), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    image.paste(0, (0, 0, 10, 20))
    data = encode(image, "GIF", transparency=0)

    avatar = decode(avatar_process(upload(data)))

    assert avatar.mode == "RGBA"
    assert avatar.getpixel((2, 10))[3] == 0
    assert avatar.getpixel((18, 10))[3] == 255
    assert is_red(avatar.getpixel((18, 10)))


@pytest.mark.parametrize("image_format", ["GIF", "WEBP"])
def test_animation_is_reduced_to_its_first_frame(image_format: str) -> None:
    frames = [Image.new("RGB", (60, 40), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], image_format, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3

    avatar = decode(avatar_process(upload(data)))

    assert getattr(avatar, "n_frames", 1) == 1
    assert not getattr(avatar, "is_animated", False)
    assert is_red(avatar.getpixel((30, 20)))


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # stored sideways: viewers turn it 90 degrees clockwise
    data = encode(two_colour_image((100, 50)), "JPEG", exif=exif, quality=95)

    avatar = decode(avatar_process(upload(data)))

    assert avatar.size == (50, 100)  # portrait
    assert is_red(avatar.getpixel((25, 10)))  # the left (red) half is now on top
    assert is_blue(avatar.getpixel((25, 90)))


def test_exif_and_other_metadata_are_not_stored() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MODEL] = "SecretCam 3000"
    exif[GPS_IFD] = {2: (51.0, 30.0, 1.0)}  # GPSLatitude
    data = encode(
        Image.new("RGB", (80, 60), "green"),
        "JPEG",
        exif=exif,
        icc_profile=b"SecretICCProfile",
        comment=b"SecretComment",
    )
    assert b"SecretCam" in data

    result = avatar_process(upload(data, name="holiday.jpg", content_type="image/jpeg"))
    stored = result.read()
    avatar = decode(result)

    assert dict(avatar.getexif()) == {}
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(avatar.info)
    assert webp_chunk_kinds(stored) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
    for secret in (b"SecretCam", b"SecretICC", b"SecretComment"):
        assert secret not in stored


def test_bytes_appended_to_an_image_are_not_stored() -> None:
    payload = b"<script>alert('stored xss')</script>"
    data = encode(Image.new("RGB", (30, 30), "green"), "PNG") + payload

    stored = avatar_process(upload(data)).read()

    assert payload not in stored
    assert decode(ContentFile(stored)).size == (30, 30)


def test_file_name_and_declared_content_type_are_ignored() -> None:
    data = encode(Image.new("RGB", (30, 30), "green"), "PNG")

    result = avatar_process(upload(data, name="avatar.txt", content_type="text/plain"))

    assert decode(result).format == "WEBP"


def test_multi_picture_jpeg_from_a_camera_is_accepted() -> None:
    pictures = [Image.new("RGB", (90, 60), colour) for colour in ("red", "blue")]
    data = encode(pictures[0], "MPO", save_all=True, append_images=pictures[1:])
    assert Image.open(io.BytesIO(data)).format == "MPO"

    avatar = decode(avatar_process(upload(data, name="photo.jpg")))

    assert avatar.size == (90, 60)
    assert is_red(avatar.getpixel((45, 30)))


def test_16_bit_greyscale_png_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (20, 20), 0x8000)  # mid grey on the 16-bit scale
    data = encode(image, "PNG")

    avatar = decode(avatar_process(upload(data)))

    assert avatar.getpixel((10, 10)) == pytest.approx((128, 128, 128), abs=2)


def test_output_name_is_random_webp_and_never_the_upload_name() -> None:
    data = encode(Image.new("RGB", (30, 30), "green"), "PNG")

    first = avatar_process(upload(data, name="jane-doe-passport.png"))
    second = avatar_process(upload(data, name="jane-doe-passport.png"))

    assert re.fullmatch(r"[0-9a-f]{32}\.webp", first.name)
    assert re.fullmatch(r"[0-9a-f]{32}\.webp", second.name)
    assert first.name != second.name


# Refused uploads


def test_text_file_named_png_is_refused() -> None:
    error = refusal(b"Just some text, honest.\n", name="avatar.png")

    assert error.code == "invalid_image"
    assert error.messages == [NOT_AN_IMAGE]


@pytest.mark.parametrize("image_format", ["BMP", "TIFF", "ICO", "PPM"])
def test_real_image_in_another_format_is_refused(image_format: str) -> None:
    data = encode(Image.new("RGB", (32, 32), "green"), image_format)

    error = refusal(data, name="avatar.png")

    assert error.code == "invalid_image"
    assert error.messages == [NOT_AN_IMAGE]


def test_empty_file_is_refused() -> None:
    error = refusal(b"")

    assert error.code == "empty_file"
    assert error.messages == ["The file is empty."]


@pytest.mark.parametrize("kept", [0.5, 0.9], ids=["half", "most"])
def test_truncated_png_is_refused_as_damaged(kept: float) -> None:
    data = encode(Image.effect_noise((200, 200), 64), "PNG")

    error = refusal(data[: int(len(data) * kept)])

    assert error.code == "damaged_image"
    assert error.messages == [DAMAGED]


@pytest.mark.parametrize("damage", ["cut", "flipped"])
def test_png_with_a_broken_header_is_refused_as_damaged_not_as_another_format(damage: str) -> None:
    data = bytearray(encode(Image.new("RGB", (50, 50), "green"), "PNG"))
    if damage == "cut":
        data = data[:12]  # signature and part of the first chunk
    else:
        data[29] ^= 0xFF  # a byte of the IHDR checksum
    assert data.startswith(b"\x89PNG")

    error = refusal(bytes(data))

    assert error.code == "damaged_image"
    assert error.messages == [DAMAGED]


def test_corrupted_jpeg_is_refused_as_damaged() -> None:
    data = encode(Image.effect_noise((200, 200), 64).convert("RGB"), "JPEG")

    error = refusal(data[: len(data) // 2])

    assert error.code == "damaged_image"
    assert error.messages == [DAMAGED]


def test_file_over_2_mb_is_refused() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * AVATAR_MAX_BYTES  # one signature over the limit

    error = refusal(data)

    assert error.code == "file_too_large"
    assert error.messages == ["Your file is 2.1 MB; an avatar can be at most 2 MB."]


def test_file_size_is_checked_before_anything_is_read() -> None:
    class HugeUpload:
        size = int(3.05 * 1024 * 1024)

        def read(self, size: int = -1, /) -> bytes:
            raise AssertionError("an oversized upload must not be read")

        def seek(self, offset: int, whence: int = 0, /) -> int:
            raise AssertionError("an oversized upload must not be read")

    with pytest.raises(ValidationError) as caught:
        avatar_process(HugeUpload())

    assert caught.value.code == "file_too_large"
    assert caught.value.messages == ["Your file is 3.1 MB; an avatar can be at most 2 MB."]


def test_file_size_is_enforced_even_when_the_declared_size_is_wrong() -> None:
    uploaded = upload(b"\0" * (AVATAR_MAX_BYTES + 10))
    uploaded.size = 100

    with pytest.raises(ValidationError) as caught:
        avatar_process(uploaded)

    assert caught.value.code == "file_too_large"


@pytest.mark.parametrize(("width", "height"), [(4001, 10), (10, 4001)])
def test_image_over_4000_pixels_on_a_side_is_refused(width: int, height: int) -> None:
    data = encode(Image.new("1", (width, height)), "PNG")

    error = refusal(data)

    assert error.code == "image_too_large"
    assert error.messages == [
        f"The image is {width}×{height} pixels; an avatar can be at most 4000×4000 pixels."  # noqa: RUF001
    ]


def test_oversized_image_is_refused_from_its_header_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def load_forbidden(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixel data must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load_forbidden)
    data = png_header_only(8000, 8000)  # 64 Mpx: under Pillow's own bomb limit, over ours

    error = refusal(data)

    assert error.code == "image_too_large"
    assert error.messages == [
        "The image is 8000×8000 pixels; an avatar can be at most 4000×4000 pixels."  # noqa: RUF001
    ]


@pytest.mark.parametrize(
    ("width", "height"),
    [(30000, 30000), (10000, 10000)],
    ids=["pillow-bomb-error", "pillow-bomb-warning"],
)
def test_decompression_bomb_is_refused_without_a_warning(width: int, height: int) -> None:
    data = png_header_only(width, height)
    assert len(data) < 200

    with warnings.catch_warnings(record=True) as caught_warnings:
        warnings.simplefilter("always")
        error = refusal(data)

    assert error.code == "image_too_large"
    assert error.messages == [TOO_MANY_PIXELS]
    assert caught_warnings == []


def test_gif_frame_growing_the_canvas_past_the_limit_is_refused() -> None:
    data = bytearray(encode(Image.new("P", (10, 10)), "GIF"))
    descriptor = data.index(b",")  # image descriptor: x, y, width, height (little-endian)
    data[descriptor + 5 : descriptor + 9] = struct.pack("<HH", 60000, 60000)

    error = refusal(bytes(data), name="avatar.gif")

    assert error.code == "image_too_large"
