"""Frame renderers: text-to-video (a painted world under a moving camera) and image-to-video.

Both render frame ``index`` as a pure function of the index, at a low internal resolution
where that is enough (soft skies, glows) and upscale, which keeps even 1080p far faster than
real time on two cores. Text-to-video converts to the encoder's I420 at that low resolution
and upscales the planes (full-size luma, half-size chroma): half the pixels of an RGB upscale,
and no full-size colour conversion. At 480p and 720p the internal picture is exactly half the
output, so a compiled fixed-tap kernel doubles the luma and the chroma needs no resampling;
1080p goes through OpenCV. A text-to-video frame is drawn in one compiled pass over its rows
(``compositor``). The user's own images are never resampled through that low resolution:
image-to-video warps them at full size, in RGB.
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from kinema.engines.base import Frame, I420Frame, RenderSpec
from kinema.engines.preview import compositor
from kinema.engines.preview.backdrop import FloatImage, paint_backdrop
from kinema.engines.preview.particles import Stamps, Swarms, draw, overlay_swarms, spawn, swarms_for
from kinema.engines.preview.references import ReferenceCards
from kinema.engines.preview.scene import Camera, Scene
from kinema.engines.preview.weather import WeatherFrame, WeatherLayers

INTERNAL_PIXELS = (110_000, 220_000)
"""Pixel budget of the internal render (the output is an upscale of it): a quarter of the output
(half each way) within these bounds, so 480p and 720p render at half size and 1080p, capped,
is upscaled about 3×."""
DRAFT_PIXELS = 40_000
_HALF_FACTORS = (1.8, 2.2)
"""Upscale factors close enough to 2 to render at exactly half the output size instead."""
_WORLD_MARGIN = 1.3
"""The world is at least this much larger than the view, leaving room for the camera to travel
(more when the camera travels further)."""
_I2V_ZOOM_PER_SECOND = 0.015
_I2V_MAX_ZOOM = 0.08
Plane = np.ndarray[Any, np.dtype[np.uint8]]
_NO_PAIRS = np.zeros((0, 0), dtype=np.uint16)
"""No doubled luma: compose writes it at the render size."""
_Row = np.ndarray[Any, np.dtype[np.float32]]
Vignette = tuple[_Row, _Row, float]
"""Gently darkened corners, fixed to the screen, as the frame compositor takes them: squared
distances from the centre across and down (-1..1 edge to edge) and the strength
(``kernels.vignette``)."""
_VIGNETTE_STRENGTH = 0.22
"""At the middle of each edge the picture is 0.78 as bright; in the corners, 0.38."""


def internal_size(width: int, height: int, draft: bool) -> tuple[int, int]:
    """The internal render size for an output size: the output itself when it is small, and
    exactly half of it when the budget is close to that (every 480p and 720p size).

    At 720p half size is 2.1× the pixels of the ~3× upscale it replaced, yet 10-20% less CPU a
    clip: the fixed-tap doubling costs far less than OpenCV's bicubic to 1280×720, which was
    the largest single cost of a frame, and the picture is sharper."""
    low, high = INTERNAL_PIXELS
    budget = DRAFT_PIXELS if draft else min(high, max(low, width * height // 4))
    factor = max(1.0, math.sqrt(width * height / budget))
    if _HALF_FACTORS[0] <= factor <= _HALF_FACTORS[1] and width % 2 == 0 and height % 2 == 0:
        # Half size is the I420 chroma size: colour goes straight into the frame and luma is
        # doubled by a fixed-tap kernel (see _to_i420), the cheapest upscale there is.
        return width // 2, height // 2
    return max(8, round(width / factor)), max(8, round(height / factor))


def _ease(t: float) -> float:
    """Half linear, half smoothstep: starts and ends gently without stopping dead."""
    return 0.5 * t + 0.5 * t * t * (3 - 2 * t)


def _resize_into(source: Plane, target: Plane, interpolation: int) -> None:
    if source.shape == target.shape:
        np.copyto(target, source)
    else:
        cv2.resize(source, target.shape[::-1], dst=target, interpolation=interpolation)


def _to_frame(planes: FloatImage, shade: FloatImage, width: int, height: int) -> Frame:
    """Quantise (3, h, w) float planes, times ``shade`` (h, w), to an RGB frame upscaled to the
    output size."""
    # One pass per plane: multiply (by 255, and the shade), round and saturate to uint8.
    small = cv2.merge([cv2.multiply(plane, shade, scale=255.0, dtype=cv2.CV_8U)
                       for plane in planes])  # fmt: skip
    if small.shape[:2] == (height, width):
        return np.ascontiguousarray(small)
    return np.ascontiguousarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC))


class TextToVideo:
    """The painted world seen through a moving (or locked-off) virtual camera."""

    def __init__(self, spec: RenderSpec, scene: Scene) -> None:
        self._spec = spec
        self._camera = scene.camera
        self._iw, self._ih = internal_size(spec.width, spec.height, spec.draft)
        # I420 needs even sizes; an odd one (no API request asks for it) is rendered one pixel
        # larger and cropped, in RGB.
        self._out = (spec.width + spec.width % 2, spec.height + spec.height % 2)
        margin_x, margin_y = _world_margins(self._camera)
        # Even sizes keep the resting view exactly centred on the world.
        world_w = 2 * math.ceil(self._iw * margin_x / 2)
        world_h = 2 * math.ceil(self._ih * margin_y / 2)
        self._world = paint_backdrop(scene, (world_w, world_h), (self._iw, self._ih))
        rng = scene.rng("particles")
        swarms = swarms_for(scene)
        if spec.draft:
            swarms = [replace(s, count=max(1, s.count // 2)) for s in swarms]
        world, view = (world_w, world_h), (self._iw, self._ih)
        self._swarms = Swarms([spawn(s, rng, world, view) for s in swarms])
        self._vignette = _vignette(self._iw, self._ih)
        small = (self._ih, self._iw)
        self._small = (np.empty(small, np.uint8), np.empty(small, np.uint8),
                       np.empty(small, np.uint8))  # fmt: skip
        # A locked-off camera looks at the middle of the world through a whole-pixel crop.
        self._crop = ((world_w - self._iw) // 2, (world_h - self._ih) // 2)
        # Where the output is exactly twice the render (480p, 720p), a pan or tilt moves the
        # view in whole render pixels: each frame is then the last one moved by whole pixels in
        # every plane, which x264's whole-pixel motion search (ultrafast has no sub-pixel
        # search) predicts exactly. A sub-pixel pan made x264 code a residual over the whole
        # picture: a quarter more encoder time and two thirds more bytes for a 480p slow pan.
        # The price is a pan that moves in steps of two output pixels; a zoom cannot be
        # matched by any shift, so it stays smooth.
        doubled = (2 * self._iw, 2 * self._ih) == self._out
        self._whole_pixels = doubled and self._camera.zoom == (1.0, 1.0)
        self._weather = WeatherLayers(scene, self._iw, self._ih, spec.draft)
        self._cards = None
        if spec.reference_images:
            max_zoom = max(self._camera.zoom)
            self._cards = ReferenceCards(spec.reference_images, scene.rng("references"),
                                         (self._iw, self._ih), (world_w, world_h),
                                         self._out, max_zoom)  # fmt: skip

    def frame(self, index: int) -> I420Frame | Frame:
        """Render frame ``index`` (0-based): I420, or RGB for an odd size."""
        spec = self._spec
        progress = _ease(index / max(1, spec.frame_count - 1))
        seconds = index / spec.fps
        if self._camera.fixed:
            # The middle of the world through a whole-pixel crop: the world copied exactly.
            zoom = 1.0
            ox, oy = self._crop
            centre = (ox + self._iw / 2, oy + self._ih / 2)
        else:
            zoom, centre = self._camera_at(progress)
        stamps = self._swarms.at(seconds, (self._iw, self._ih), zoom=zoom, centre=centre,
                                 origin=(self._iw / 2, self._ih / 2))  # fmt: skip
        frame = self._compose(zoom, centre, stamps, self._weather.at(seconds))
        if self._cards is not None:
            scale_x, scale_y = self._out[0] / self._iw, self._out[1] / self._ih

            def project(x: float, y: float) -> tuple[float, float]:
                """World pixels to output pixels, through this frame's camera."""
                return ((zoom * (x - centre[0]) + self._iw / 2) * scale_x,
                        (zoom * (y - centre[1]) + self._ih / 2) * scale_y)  # fmt: skip

            self._cards.apply(frame, seconds, project, zoom)
        if self._out != (spec.width, spec.height):
            return np.ascontiguousarray(frame.to_rgb()[: spec.height, : spec.width])
        return frame

    def _compose(
        self, zoom: float, centre: tuple[float, float], stamps: Stamps, weather: WeatherFrame
    ) -> I420Frame:
        """The picture in a new I420 frame of the output size (see ``compositor.compose``)."""
        width, height = self._out
        frame = I420Frame(np.empty((height * 3 // 2, width), dtype=np.uint8))
        luma, blue, red = frame.planes()
        small = self._small
        # Half size (see internal_size): chroma straight into the frame, luma doubled on the way.
        doubled = blue.shape == small[0].shape and sys.byteorder == "little"
        compositor.compose(self._world, zoom, centre[0], centre[1], stamps.windows, stamps.rows,
                           stamps.columns, stamps.colour, stamps.bounds, stamps.additive,
                           *weather, self._vignette,
                           luma.view(np.uint16) if doubled else _NO_PAIRS, small[0],
                           blue if doubled else small[1], red if doubled else small[2])  # fmt: skip
        if not doubled:
            _resize_into(small[0], luma, cv2.INTER_CUBIC)
            _resize_into(small[1], blue, cv2.INTER_LINEAR)  # chroma is soft: linear is plenty
            _resize_into(small[2], red, cv2.INTER_LINEAR)
        return frame

    def _camera_at(self, progress: float) -> tuple[float, tuple[float, float]]:
        world_h, world_w = self._world.shape[1:]
        zoom = self._camera.zoom[0] + (self._camera.zoom[1] - self._camera.zoom[0]) * progress
        travel = progress - 0.5  # the move is centred on the middle of the world
        cx = world_w / 2 + self._camera.pan[0] * self._iw * travel
        cy = world_h / 2 + self._camera.pan[1] * self._ih * travel
        if self._whole_pixels:
            # The view's first column and row (centre less half the view) on whole pixels.
            cx = math.floor(cx - self._iw / 2 + 0.5) + self._iw / 2
            cy = math.floor(cy - self._ih / 2 + 0.5) + self._ih / 2
        return zoom, (cx, cy)


class ImageToVideo:
    """The user's first frame brought to life: a slow push-in, floating lights, and with a last
    frame a dissolve into it. The first (and last) frame are returned exactly as given."""

    def __init__(self, spec: RenderSpec, scene: Scene) -> None:
        assert spec.first_frame is not None
        self._spec = spec
        self._first = spec.first_frame
        self._last = spec.last_frame
        seconds = spec.frame_count / spec.fps
        moving = not scene.camera.fixed
        self._zoom = min(_I2V_MAX_ZOOM, _I2V_ZOOM_PER_SECOND * seconds) if moving else 0.0
        # Image-to-video only pushes in (pulling out of the first frame would show its edges);
        # the prompt's pan direction becomes the drift that goes with the push.
        pan_x, pan_y = scene.camera.pan
        longest = max(abs(pan_x), abs(pan_y), 1e-9)
        self._pan = (pan_x / longest, pan_y / longest)
        self._iw, self._ih = internal_size(spec.width, spec.height, spec.draft)
        rng = scene.rng("overlay")
        self._particles = [
            spawn(s, rng, (self._iw, self._ih), (self._iw, self._ih)) for s in overlay_swarms(scene)
        ]
        self._unshaded: FloatImage = np.ones((self._ih, self._iw), dtype=np.float32)
        # Falling rain or snow over the picture; fog and lightning would wash the user's image.
        self._weather = WeatherLayers(replace(scene, lightning=()), self._iw, self._ih,
                                      spec.draft)  # fmt: skip

    def frame(self, index: int) -> Frame:
        """Render frame ``index`` (0-based)."""
        n = self._spec.frame_count
        if index == 0:
            return self._first.copy()
        if self._last is not None and index == n - 1:
            return self._last.copy()
        t = index / max(1, n - 1)
        if self._last is None:
            out = self._warp(self._first, _ease(t))
            envelope = min(1.0, 3 * t)
        else:
            # Hold on the first image, dissolve through the middle half, settle on the last.
            weight = float(np.clip((t - 0.25) / 0.5, 0.0, 1.0))
            weight = weight * weight * (3 - 2 * weight)
            out = self._dissolve(t, weight)
            envelope = math.sin(math.pi * t)
        self._add_lights(out, index / self._spec.fps, envelope)
        return out

    def _dissolve(self, t: float, weight: float) -> Frame:
        assert self._last is not None
        if weight <= 0.0:
            return self._warp(self._first, _ease(t))
        if weight >= 1.0:
            return self._warp(self._last, 1 - _ease(t))
        first = self._warp(self._first, _ease(t))
        last = self._warp(self._last, 1 - _ease(t))
        return np.ascontiguousarray(cv2.addWeighted(first, 1 - weight, last, weight, 0.0))

    def _warp(self, image: Frame, progress: float) -> Frame:
        """``image`` pushed in by ``progress`` of the full zoom, drifting the camera's way."""
        zoom = 1.0 + self._zoom * progress
        if zoom == 1.0:
            return image.copy()
        h, w = image.shape[:2]
        # The drift never exceeds what the zoom has cropped, so no border is ever shown.
        ox = -0.8 * self._pan[0] * (zoom - 1) * w / 2
        oy = -0.8 * self._pan[1] * (zoom - 1) * h / 2
        matrix = np.array(
            [[zoom, 0.0, (1 - zoom) * w / 2 + ox], [0.0, zoom, (1 - zoom) * h / 2 + oy]]
        )
        warped = cv2.warpAffine(
            image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        return np.ascontiguousarray(warped)

    def _add_lights(self, out: Frame, seconds: float, envelope: float) -> None:
        if envelope <= 0.0:
            return
        layer: FloatImage = np.zeros((3, self._ih, self._iw), dtype=np.float32)
        for particles in self._particles:
            draw(layer, particles, seconds, gain=envelope)
        if self._weather.falls:
            self._weather.apply(layer, seconds, envelope)
        light = _to_frame(layer, self._unshaded, self._spec.width, self._spec.height)
        cv2.add(out, light, dst=out)


def _world_margins(camera: Camera) -> tuple[float, float]:
    """How much larger than the view the world must be for the camera's whole move."""
    # At the widest zoom the view spans the view size; the pan moves it |pan| views in all.
    return (
        max(_WORLD_MARGIN, 1.0 + abs(camera.pan[0]) + 0.06),
        max(_WORLD_MARGIN, 1.0 + abs(camera.pan[1]) + 0.06),
    )


def _vignette(width: int, height: int) -> Vignette:
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)
    y = np.linspace(-1.0, 1.0, height, dtype=np.float32)
    return x * x, y * y, _VIGNETTE_STRENGTH
