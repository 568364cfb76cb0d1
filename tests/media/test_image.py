"""Decoding user images safely, cover-resizing them, and PNG output."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from kinema.engines.base import Frame
from kinema.media.image import cover_resize, decode_image, encode_png


def picture(width: int = 40, height: int = 30) -> Frame:
    """A test card: a horizontal red ramp and a vertical green ramp, blue constant."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[:, :, 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    image[:, :, 1] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
    image[:, :, 2] = 90
    return image


def saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "WEBP", "GIF"])
def test_decodes_each_accepted_format(fmt: str) -> None:
    original = picture()
    options: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    decoded = decode_image(saved(Image.fromarray(original), fmt, **options))
    assert decoded.shape == original.shape and decoded.dtype == np.uint8
    assert decoded.flags.c_contiguous
    tolerance = 40 if fmt == "GIF" else 0  # GIF has a 256-colour palette
    assert np.abs(decoded.astype(int) - original.astype(int)).max() <= tolerance


def test_decodes_jpeg() -> None:
    original = picture()
    decoded = decode_image(saved(Image.fromarray(original), "JPEG", quality=95))
    assert decoded.shape == original.shape
    assert np.abs(decoded.astype(int) - original.astype(int)).mean() < 4


def test_exif_orientation_is_applied() -> None:
    original = picture(40, 30)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    decoded = decode_image(saved(Image.fromarray(original), "JPEG", quality=95, exif=exif))
    assert decoded.shape == (40, 30, 3)
    expected = np.rot90(original, k=-1)
    assert np.abs(decoded.astype(int) - expected.astype(int)).mean() < 4


def test_transparency_becomes_black() -> None:
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[:, :, 0] = 255  # red...
    rgba[:, :5, 3] = 255  # ...opaque on the left half only
    decoded = decode_image(saved(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert decoded[:, :5].tolist() == [[[255, 0, 0]] * 5] * 10
    assert not decoded[:, 5:].any()


def test_greyscale_and_16_bit_images_become_rgb() -> None:
    grey = Image.fromarray(np.full((8, 8), 128, dtype=np.uint8), "L")
    assert decode_image(saved(grey, "PNG"))[0, 0].tolist() == [128, 128, 128]
    deep = Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16))
    assert decode_image(saved(deep, "PNG"))[0, 0].tolist() == [255, 255, 255]


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, world", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20],
    ids=["empty", "text", "png-signature-only"],
)
def test_garbage_is_refused_with_a_readable_message(data: bytes) -> None:
    with pytest.raises(ValueError, match="image"):
        decode_image(data)


def test_unaccepted_format_is_refused() -> None:
    with pytest.raises(ValueError, match="PNG, JPEG, WebP, GIF or BMP"):
        decode_image(saved(Image.fromarray(picture()), "TIFF"))


def test_truncated_image_is_refused() -> None:
    noisy = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = saved(Image.fromarray(noisy), "PNG")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        decode_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding() -> None:
    # 7000 × 7000 one-bit pixels compress to a few kilobytes but claim 49 megapixels.
    bomb = saved(Image.new("1", (7000, 7000)), "PNG")
    assert len(bomb) < 100_000
    with pytest.raises(ValueError, match="too large"):
        decode_image(bomb)
    with pytest.raises(ValueError, match="too large"):
        decode_image(saved(Image.fromarray(picture(100, 100)), "PNG"), max_pixels=5_000)


def test_cover_resize_crops_the_centre_of_a_wide_image() -> None:
    image = np.zeros((100, 300, 3), dtype=np.uint8)
    image[:, :100] = (255, 0, 0)  # red left third
    image[:, 100:200] = (0, 255, 0)  # green middle third
    image[:, 200:] = (0, 0, 255)  # blue right third
    square = cover_resize(image, 50, 50)
    assert square.shape == (50, 50, 3) and square.flags.c_contiguous
    assert (square == np.array([0, 255, 0], dtype=np.uint8)).all()


def test_cover_resize_crops_the_centre_of_a_tall_image() -> None:
    image = np.zeros((300, 100, 3), dtype=np.uint8)
    image[100:200] = (0, 255, 0)
    wide = cover_resize(image, 864, 480)
    assert wide.shape == (480, 864, 3)
    assert wide[:, :, 1].min() == 255  # only the green middle band survives


@pytest.mark.parametrize(("width", "height"), [(864, 480), (480, 864), (2176, 928), (7, 5)])
def test_cover_resize_gives_exact_sizes(width: int, height: int) -> None:
    out = cover_resize(picture(123, 77), width, height)
    assert out.shape == (height, width, 3) and out.dtype == np.uint8


def test_encode_png_round_trips() -> None:
    frame = picture()
    data = encode_png(frame)
    assert data.startswith(b"\x89PNG")
    assert np.array_equal(decode_image(data), frame)
