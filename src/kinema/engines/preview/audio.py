"""An ambient sound bed for the preview: a soft pad chord over shaped noise, matched to the scene.

Surf swells for the sea, crackles for fire, a low drone for space. Synthesised whole (a 15 s
clip is 720,000 stereo samples, a few tens of milliseconds of numpy), normalised to a fixed
peak and faded in and out so the clip starts and ends without a click.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kinema.engines.base import AUDIO_SAMPLE_RATE, Audio
from kinema.engines.preview.scene import Scene

Samples = np.ndarray[Any, np.dtype[np.float64]]

PEAK = 0.8
"""Peak sample level: headroom under full scale for AAC's overshoot."""
_PAD_LEVEL = 0.5
_FADE_SECONDS = 0.4


def synthesize_ambience(scene: Scene, samples: int) -> Audio:
    """Return exactly ``samples`` stereo float32 samples of the scene's ambience."""
    if samples <= 0:
        return np.zeros((0, 2), dtype=np.float32)
    rng = scene.rng("audio")
    t = np.arange(samples, dtype=np.float64) / AUDIO_SAMPLE_RATE
    mix = _PAD_LEVEL * _pad(scene, t, rng) + scene.sound.noise_level * _noise(scene, t, rng)
    if scene.sound.crackle > 0:
        mix += _crackle(scene.sound.crackle, samples, rng)
    fade = min(_FADE_SECONDS, 0.25 * samples / AUDIO_SAMPLE_RATE)
    envelope = np.clip(np.minimum(t, t[-1] - t) / max(fade, 1e-6), 0.0, 1.0)
    mix *= envelope[:, None]
    peak = float(np.abs(mix).max())
    if peak > 0:
        mix *= PEAK / peak
    return np.ascontiguousarray(mix, dtype=np.float32)


def _pad(scene: Scene, t: Samples, rng: np.random.Generator) -> Samples:
    """Detuned sine pairs per chord note, each breathing slowly, spread across the stereo field."""
    out = np.zeros((t.size, 2))
    voices = scene.sound.chord
    for index, semitones in enumerate(voices):
        freq = scene.sound.root_hz * 2 ** (semitones / 12)
        pan = 0.5 + 0.35 * (index / max(1, len(voices) - 1) - 0.5) * 2
        breath = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 6.3))
        for detune, side in ((0.997, 0), (1.003, 1)):
            phase = rng.uniform(0, 2 * np.pi)
            tone = np.sin(2 * np.pi * freq * detune * t + phase)
            tone += 0.2 * np.sin(4 * np.pi * freq * detune * t + phase)  # warmth: 2nd harmonic
            gain = pan if side else 1 - pan
            out[:, side] += tone * breath * gain
    return out / max(1, len(voices))


def _noise(scene: Scene, t: Samples, rng: np.random.Generator) -> Samples:
    """Stereo noise low-passed in the frequency domain, swelling like surf or wind if asked."""
    size = 1 << int(np.ceil(np.log2(t.size)))
    spectrum = np.fft.rfft(rng.standard_normal((size, 2)), axis=0)
    freqs = np.fft.rfftfreq(size, 1 / AUDIO_SAMPLE_RATE)
    shape = 1 / np.sqrt(1 + (freqs / scene.sound.noise_cutoff_hz) ** 4)  # 2nd-order low-pass
    shape[freqs < 30] = 0.0  # no rumble below hearing
    noise = np.fft.irfft(spectrum * shape[:, None], n=size, axis=0)[: t.size]
    noise /= max(float(np.abs(noise).max()), 1e-9)
    if scene.sound.swell_hz > 0:
        swell = 0.5 + 0.5 * np.sin(2 * np.pi * scene.sound.swell_hz * t + rng.uniform(0, 6.3))
        noise *= (0.25 + 0.75 * swell**2)[:, None]
    return noise


def _crackle(rate: float, samples: int, rng: np.random.Generator) -> Samples:
    """Sparse decaying clicks, like wood popping in a fire."""
    out = np.zeros((samples, 2))
    count = rng.poisson(rate * samples / AUDIO_SAMPLE_RATE)
    decay = np.exp(-np.arange(240) / 30.0)
    for start in rng.integers(0, max(1, samples - decay.size), count):
        burst = rng.standard_normal(decay.size) * decay * rng.uniform(0.1, 0.4)
        pan = rng.uniform(0.2, 0.8)
        out[start : start + decay.size, 0] += burst * (1 - pan)
        out[start : start + decay.size, 1] += burst * pan
    return out
