"""An ambient sound bed for the preview: a soft pad chord over shaped noise, matched to the scene.

Wind gusts over open country, surf swells for the sea, a traffic hum for the city, crackles for
fire, a low drone for space, room tone indoors; rain hiss and droplets, thunder rolls and night
insects when the prompt's weather and time call for them. Synthesised whole (a 15 s
clip is 720,000 stereo samples: tens of milliseconds of numpy, sines in float32 for speed),
normalised to a fixed peak and faded in and out so the clip starts and ends without a click.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kinema.engines.base import AUDIO_SAMPLE_RATE, Audio
from kinema.engines.preview.scene import Scene

Samples = np.ndarray[Any, np.dtype[np.float32]]
Spectrum = np.ndarray[Any, np.dtype[np.complex64]]
"""rfft of white noise: (size // 2 + 1, 2)."""

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
    # One white noise, coloured differently for the bed (wind, surf) and for rain.
    size = 1 << int(np.ceil(np.log2(max(2, samples))))
    white = np.fft.rfft(rng.standard_normal((size, 2), dtype=np.float32), axis=0).astype(
        np.complex64
    )
    mix = _PAD_LEVEL * _pad(scene, clock, rng)
    mix += scene.sound.noise_level * _noise(scene, clock, rng, white)
    sound = scene.sound
    if sound.crackle > 0:
        mix += _crackle(sound.crackle, samples, rng)
    if sound.hum_hz > 0:
        mix += 0.35 * _hum(sound.hum_hz, clock, rng)
    if sound.rain > 0:
        mix += sound.rain * _rain(samples, rng, white)
    if sound.chirps > 0:
        mix += 0.12 * sound.chirps * _chirps(clock, rng)
    for start in sound.thunder:
        mix += _thunder(start, samples, rng)
    fade = max(1.0, min(_FADE_SECONDS, 0.25 * samples / AUDIO_SAMPLE_RATE) * AUDIO_SAMPLE_RATE)
    ramp = np.minimum(clock, clock[-1] - clock) / fade
    mix *= np.clip(ramp, 0.0, 1.0).astype(np.float32)[:, None]
    peak = float(np.abs(mix).max())
    if peak > 0:
        mix *= np.float32(PEAK / peak)
    return np.ascontiguousarray(mix, dtype=np.float32)


def _phase(freq: float, clock: np.ndarray[Any, Any], offset: float) -> Samples:
    """The oscillator angle in [0, 2π), wrapped in float64 so float32 sines stay precise."""
    cycles = clock * (freq / AUDIO_SAMPLE_RATE) + offset
    cycles -= np.floor(cycles)
    cycles *= _TAU
    return cycles.astype(np.float32)


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


def _noise(
    scene: Scene, clock: np.ndarray[Any, Any], rng: np.random.Generator, spectrum: Spectrum
) -> Samples:
    """Stereo noise low-passed in the frequency domain, swelling like surf or wind if asked."""
    samples = clock.size
    size = 2 * (spectrum.shape[0] - 1)
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


def _hum(root_hz: float, clock: np.ndarray[Any, Any], rng: np.random.Generator) -> Samples:
    """A city's low hum: a few harmonics of an engine-and-mains drone, slowly wavering."""
    out = np.zeros((clock.size, 2), dtype=np.float32)
    waver = 1.0 + 0.3 * np.sin(_phase(rng.uniform(0.1, 0.3), clock, rng.uniform(0, 1)))
    for harmonic, level in ((1, 1.0), (2, 0.5), (3, 0.25), (4, 0.12)):
        tone = np.sin(_phase(root_hz * harmonic, clock, rng.uniform(0, 1))) * np.float32(level)
        out[:, 0] += tone
        out[:, 1] += np.roll(tone, 37 * harmonic)
    out *= (waver / 1.9)[:, None]
    return out


def _rain(samples: int, rng: np.random.Generator, spectrum: Spectrum) -> Samples:
    """Rain: bright, steady hiss (noise above ~1 kHz) plus a patter of tiny droplets."""
    size = 2 * (spectrum.shape[0] - 1)
    freqs = np.fft.rfftfreq(size, 1 / AUDIO_SAMPLE_RATE).astype(np.float32)
    band = (freqs / 1000.0) ** 2 / (1 + (freqs / 1000.0) ** 2)  # high-pass at 1 kHz
    band /= np.sqrt(1 + (freqs / 9000.0) ** 4)  # and gently off above 9 kHz
    hiss = np.fft.irfft(spectrum * band[:, None], n=size, axis=0)[:samples].astype(np.float32)
    hiss /= max(float(np.abs(hiss).max()), 1e-9)
    drops = np.zeros((samples, 2), dtype=np.float32)
    count = rng.poisson(40 * samples / AUDIO_SAMPLE_RATE)
    decay = np.exp(-np.arange(96) / 12.0).astype(np.float32)
    for start in rng.integers(0, max(1, samples - decay.size), count):
        burst = rng.standard_normal(decay.size).astype(np.float32) * decay * rng.uniform(0.03, 0.15)
        side = int(rng.integers(0, 2))
        drops[start : start + decay.size, side] += burst[: samples - start]
    return 0.6 * hiss + drops


def _chirps(clock: np.ndarray[Any, Any], rng: np.random.Generator) -> Samples:
    """Night insects: a high tone pulsed in short trills, one cricket per side."""
    out = np.zeros((clock.size, 2), dtype=np.float32)
    seconds = clock / AUDIO_SAMPLE_RATE
    for side in (0, 1):
        tone = np.sin(_phase(rng.uniform(4200, 4800), clock, rng.uniform(0, 1)))
        trill = np.sin(_phase(rng.uniform(25, 35), clock, rng.uniform(0, 1))) > 0.3
        period, offset = rng.uniform(0.8, 1.3), rng.uniform(0, 1)
        bursts = np.mod(seconds / period + offset, 1.0) < 0.25
        out[:, side] = tone * (trill & bursts).astype(np.float32)
    return out


def _thunder(start_seconds: float, samples: int, rng: np.random.Generator) -> Samples:
    """A thunder roll: deep noise that cracks, then rumbles away over a few seconds."""
    out = np.zeros((samples, 2), dtype=np.float32)
    start = int(start_seconds * AUDIO_SAMPLE_RATE)
    if start >= samples:
        return out
    length = min(samples - start, int(3.5 * AUDIO_SAMPLE_RATE))
    size = 1 << int(np.ceil(np.log2(max(2, length))))
    spectrum = np.fft.rfft(rng.standard_normal((size, 2), dtype=np.float32), axis=0)
    freqs = np.fft.rfftfreq(size, 1 / AUDIO_SAMPLE_RATE).astype(np.float32)
    shape = 1 / (1 + (freqs / 120.0) ** 2)
    shape[freqs < 25] = 0.0
    rumble = np.fft.irfft(spectrum * shape[:, None], n=size, axis=0)[:length].astype(np.float32)
    rumble /= max(float(np.abs(rumble).max()), 1e-9)
    t = np.arange(length, dtype=np.float32) / AUDIO_SAMPLE_RATE
    envelope = np.minimum(t / 0.05, 1.0) * np.exp(-t / 1.2) * (0.7 + 0.3 * np.sin(7 * t))
    out[start : start + length] = rumble * (1.2 * envelope)[:, None]
    return out
