"""An ambient sound bed for the preview: a soft pad chord over shaped noise, matched to the scene.

Surf swells for the sea, crackles for fire, a low drone for space. Synthesised whole (a 15 s
clip is 720,000 stereo samples: tens of milliseconds of numpy, sines in float32 for speed),
normalised to a fixed peak and faded in and out so the clip starts and ends without a click.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kinema.engines.base import AUDIO_SAMPLE_RATE, Audio
from kinema.engines.preview.scene import Scene

Samples = np.ndarray[Any, np.dtype[np.float32]]

PEAK = 0.8
"""Peak sample level: headroom under full scale for AAC's overshoot."""
_PAD_LEVEL = 0.5
_FADE_SECONDS = 0.4
_TAU = 2 * np.pi


def synthesize_ambience(scene: Scene, samples: int) -> Audio:
    """Return exactly ``samples`` stereo float32 samples of the scene's ambience."""
    if samples <= 0:
        return np.zeros((0, 2), dtype=np.float32)
    rng = scene.rng("audio")
    clock = np.arange(samples, dtype=np.float64)  # the sample index: exact phase at any length
    mix = _PAD_LEVEL * _pad(scene, clock, rng)
    mix += scene.sound.noise_level * _noise(scene, clock, rng)
    if scene.sound.crackle > 0:
        mix += _crackle(scene.sound.crackle, samples, rng)
    fade = max(1.0, min(_FADE_SECONDS, 0.25 * samples / AUDIO_SAMPLE_RATE) * AUDIO_SAMPLE_RATE)
    ramp = np.minimum(clock, clock[-1] - clock) / fade
    mix *= np.clip(ramp, 0.0, 1.0).astype(np.float32)[:, None]
    peak = float(np.abs(mix).max())
    if peak > 0:
        mix *= np.float32(PEAK / peak)
    return np.ascontiguousarray(mix, dtype=np.float32)


def _phase(freq: float, clock: np.ndarray[Any, Any], offset: float) -> Samples:
    """The oscillator angle in [0, 2π), wrapped in float64 so float32 sines stay precise."""
    cycles = np.mod(clock * (freq / AUDIO_SAMPLE_RATE) + offset, 1.0)
    return (cycles * _TAU).astype(np.float32)


def _pad(scene: Scene, clock: np.ndarray[Any, Any], rng: np.random.Generator) -> Samples:
    """Detuned sine pairs per chord note, each breathing slowly, spread across the stereo field."""
    out = np.zeros((clock.size, 2), dtype=np.float32)
    voices = scene.sound.chord
    for index, semitones in enumerate(voices):
        freq = scene.sound.root_hz * 2 ** (semitones / 12)
        pan = 0.5 + 0.35 * (index / max(1, len(voices) - 1) - 0.5) * 2
        breath = 0.6 + 0.4 * np.sin(_phase(rng.uniform(0.05, 0.2), clock, rng.uniform(0, 1)))
        for detune, side in ((0.997, 0), (1.003, 1)):
            angle = _phase(freq * detune, clock, rng.uniform(0, 1))
            sine = np.sin(angle)
            # Fundamental plus a soft second harmonic (sin 2x = 2 sin x cos x) for warmth.
            tone = sine * (1.0 + 0.4 * np.cos(angle))
            gain = pan if side else 1 - pan
            out[:, side] += tone * breath * np.float32(gain)
    out /= np.float32(max(1, len(voices)))
    return out


def _noise(scene: Scene, clock: np.ndarray[Any, Any], rng: np.random.Generator) -> Samples:
    """Stereo noise low-passed in the frequency domain, swelling like surf or wind if asked."""
    samples = clock.size
    size = 1 << int(np.ceil(np.log2(samples)))
    spectrum = np.fft.rfft(rng.standard_normal((size, 2), dtype=np.float32), axis=0)
    freqs = np.fft.rfftfreq(size, 1 / AUDIO_SAMPLE_RATE).astype(np.float32)
    shape = 1 / np.sqrt(1 + (freqs / np.float32(scene.sound.noise_cutoff_hz)) ** 4)  # 2nd order
    shape[freqs < 30] = 0.0  # no rumble below hearing
    noise = np.fft.irfft(spectrum * shape[:, None], n=size, axis=0)[:samples].astype(np.float32)
    noise /= max(float(np.abs(noise).max()), 1e-9)
    if scene.sound.swell_hz > 0:
        swell = 0.5 + 0.5 * np.sin(_phase(scene.sound.swell_hz, clock, rng.uniform(0, 1)))
        noise *= (0.25 + 0.75 * swell**2)[:, None]
    return noise


def _crackle(rate: float, samples: int, rng: np.random.Generator) -> Samples:
    """Sparse decaying clicks, like wood popping in a fire."""
    out = np.zeros((samples, 2), dtype=np.float32)
    count = rng.poisson(rate * samples / AUDIO_SAMPLE_RATE)
    decay = np.exp(-np.arange(240) / 30.0)
    for start in rng.integers(0, max(1, samples - decay.size), count):
        burst = rng.standard_normal(decay.size) * decay * rng.uniform(0.1, 0.4)
        pan = rng.uniform(0.2, 0.8)
        out[start : start + decay.size, 0] += burst[: samples - start] * (1 - pan)
        out[start : start + decay.size, 1] += burst[: samples - start] * pan
    return out
