"""Still images in and out: decoding user uploads safely, fitting them to a video size, PNG out.

Input images come from users (inline base64 or fetched URLs), so decoding is defensive: only
the formats the API accepts are even tried, the pixel count is checked from the header before
any pixel is decoded (a tiny file can claim a gigapixel canvas), and every failure is a
ValueError whose message can be shown to the user as is.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from kinema.engines.base import Frame

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
"""Pillow format names of the images the API accepts."""

_PNG_COMPRESSION = 3
"""zlib level for PNG output: near the default's size at a fraction of its time on big frames."""


def decode_image(data: bytes, *, max_pixels: int = 40_000_000) -> Frame:
    """Decode a PNG, JPEG, WebP, GIF or BMP image into an RGB frame, upright per its EXIF tag.

    Transparent pixels are composited over black (video has no alpha); an animated GIF or WebP
    gives its first frame. Raises ValueError with a user-facing message for anything that is not
    a readable image of an accepted format, or that has more than ``max_pixels`` pixels.
    """
    # Pillow's own bomb check warns (or raises) at its global limit; ours is explicit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except UnidentifiedImageError:
            raise ValueError(
                "the image could not be read: it must be a PNG, JPEG, WebP, GIF or BMP file"
            ) from None
        except Image.DecompressionBombError:
            raise ValueError(f"the image is too large: at most {max_pixels:,} pixels") from None
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            raise ValueError(f"the image data is corrupt ({exc})") from None
        # Checked from the header, before a single pixel is decoded.
        _check_pixels(image.size, max_pixels)
        try:
            image.load()
            return _to_rgb(ImageOps.exif_transpose(image))
        except Image.DecompressionBombError:
            raise ValueError(f"the image is too large: at most {max_pixels:,} pixels") from None
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            # Pillow reports truncated or corrupt data as OSError, some plugins otherwise.
            raise ValueError(f"the image data is truncated or corrupt ({exc})") from None


def cover_resize(image: Frame, width: int, height: int) -> Frame:
    """Centre-crop ``image`` to the aspect ratio of width×height, then resize to exactly that.

    Like CSS ``object-fit: cover``: the result is filled edge to edge and nothing is distorted.
    Shrinking uses area averaging (no aliasing); enlarging uses bicubic interpolation.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"target size must be positive, got {width}x{height}")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 RGB image, got {image.dtype} {image.shape}")
    src_h, src_w = image.shape[:2]
    # Compare aspect ratios exactly in integers: src_w/src_h > width/height.
    if src_w * height > width * src_h:
        crop_w, crop_h = max(1, round(src_h * width / height)), src_h
    else:
        crop_w, crop_h = src_w, max(1, round(src_w * height / width))
    left, top = (src_w - crop_w) // 2, (src_h - crop_h) // 2
    cropped = image[top : top + crop_h, left : left + crop_w]
    if (crop_w, crop_h) == (width, height):
        return np.ascontiguousarray(cropped).copy()
    shrinking = crop_w >= width and crop_h >= height
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    resized = cv2.resize(
        np.ascontiguousarray(cropped), (width, height), interpolation=interpolation
    )
    return np.ascontiguousarray(resized)


def encode_png(frame: Frame) -> bytes:
    """Encode an RGB frame as PNG bytes."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected a uint8 RGB frame, got {frame.dtype} {frame.shape}")
    bgr = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, _PNG_COMPRESSION])
    if not ok:
        raise RuntimeError("OpenCV could not encode the frame as PNG")
    return bytes(buffer.tobytes())


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ValueError("the image has no pixels")
    if width * height > max_pixels:
        raise ValueError(
            f"the image is too large: {width}x{height} is {width * height:,} pixels, "
            f"the limit is {max_pixels:,}"
        )


def _to_rgb(image: Image.Image) -> Frame:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # High bit depth greyscale: Pillow's RGB conversion would clip it to white, so scale.
        grey = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or grey.max() > 255 else 255.0
        grey8 = np.clip(grey * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey8[:, :, None], 3, axis=2))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        image = Image.alpha_composite(black, rgba)
    rgb = np.array(image.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb)
