"""What Kinema knows about each open-weight pipeline family, without importing torch.

A family fixes the diffusers pipeline classes, the native grid the model generates on (sizes a
multiple of ``multiple``, ``frame_step`` k + 1 frames at its own ``fps``), the largest clip it is
trained for, which conditioning modes it can do, and its sampling defaults. The models file
(:mod:`kinema.domain.models_file`) reads these for defaults; the engine for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

# The negative prompt Wan's authors ship with their examples.
WAN_NEGATIVE_PROMPT = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, "
    "images, static, overall gray, worst quality, low quality, JPEG compression residue, ugly, "
    "incomplete, extra fingers, poorly drawn hands, poorly drawn faces, deformed, disfigured, "
    "misshapen limbs, fused fingers, still picture, messy background, three legs, many people "
    "in the background, walking backwards"
)
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"


@dataclass(frozen=True)
class Family:
    """One pipeline family: how it is loaded, its native grid and its defaults."""

    name: str
    load_class: str
    """The diffusers pipeline class a weights folder of this family is loaded with."""
    text_class: str | None
    """Pipeline for text-to-video (None: the family cannot)."""
    first_frame_class: str | None
    """Pipeline for a first frame (built with ``from_pipe``: shares the loaded weights)."""
    first_last_class: str | None
    """Pipeline for a first and a last frame."""
    multiple: int
    """Width and height must be multiples of this (VAE compression × transformer patch)."""
    frame_step: int
    """Frame counts are ``frame_step × k + 1`` (the VAE's temporal compression)."""
    fps: int
    max_frames: int
    """The longest clip (in native frames) the model is trained for."""
    max_area: int
    """Pixels per frame of its native resolution; larger requests are generated smaller."""
    steps: int
    guidance: float
    negative_prompt: str
    max_sequence_length: int
    float32_vae: bool = True
    """Keep the VAE in float32 when the rest runs in half precision (Wan's recommendation)."""
    default_modes: tuple[str, ...] | None = None
    """The modes an entry offers when its ``modes`` key is absent (None: all of ``modes``)."""

    @property
    def modes(self) -> tuple[str, ...]:
        """The conditioning modes (``Mode`` values) this family can do."""
        pairs = (("text", self.text_class), ("first_frame", self.first_frame_class),
                 ("first_last_frame", self.first_last_class))  # fmt: skip
        return tuple(mode for mode, cls in pairs if cls is not None)

    @property
    def max_seconds(self) -> int:
        """Whole seconds covered by ``max_frames`` at the native frame rate."""
        return max(1, (self.max_frames - 1) // self.fps)


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            name="wan2.1-t2v", load_class="WanPipeline", text_class="WanPipeline",
            first_frame_class=None, first_last_class=None, multiple=16, frame_step=4, fps=16,
            max_frames=81, max_area=832 * 480, steps=50, guidance=5.0,
            negative_prompt=WAN_NEGATIVE_PROMPT, max_sequence_length=512,
        ),
        Family(
            # Wan 2.1 I2V (480P/720P: first frame) and FLF2V (first + last frame) checkpoints:
            # CLIP image encoder + UMT5. Which of the two a folder is shows in its transformer
            # (position embeddings for two images); an FLF2V entry lists first_last_frame.
            name="wan2.1-i2v", load_class="WanImageToVideoPipeline", text_class=None,
            first_frame_class="WanImageToVideoPipeline",
            first_last_class="WanImageToVideoPipeline", multiple=16, frame_step=4, fps=16,
            max_frames=81, max_area=832 * 480, steps=50, guidance=5.0,
            negative_prompt=WAN_NEGATIVE_PROMPT, max_sequence_length=512,
            default_modes=("first_frame",),
        ),
        Family(
            # Wan 2.2 TI2V-5B: one checkpoint for text and first frame (expand_timesteps);
            # its pipeline ignores a last frame, so first + last is not offered.
            name="wan2.2-ti2v-5b", load_class="WanPipeline", text_class="WanPipeline",
            first_frame_class="WanImageToVideoPipeline", first_last_class=None, multiple=32,
            frame_step=4, fps=24, max_frames=121, max_area=1280 * 704, steps=50, guidance=5.0,
            negative_prompt=WAN_NEGATIVE_PROMPT, max_sequence_length=512,
        ),
        Family(
            name="ltx-video", load_class="LTXPipeline", text_class="LTXPipeline",
            first_frame_class="LTXImageToVideoPipeline", first_last_class="LTXConditionPipeline",
            multiple=32, frame_step=8, fps=24, max_frames=257, max_area=768 * 512, steps=50,
            guidance=3.0, negative_prompt=LTX_NEGATIVE_PROMPT, max_sequence_length=128,
            float32_vae=False,
        ),
    )
}  # fmt: skip
