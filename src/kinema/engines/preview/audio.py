"""An ambient sound bed for the preview: a soft pad chord over shaped noise, matched to the scene.

Wind gusts over open country, surf swells for the sea, a traffic hum for the city, crackles for
fire, a low drone for space, room tone indoors; rain hiss and droplets, thunder rolls and night
insects when the prompt's weather and time call for them. Synthesised whole (a 15 s
clip is 720,000 stereo samples: tens of milliseconds of numpy, sines in float32 for speed),
normalised to a fixed peak and faded in and out so the clip starts and ends without a click.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kinema.engines.base import AUDIO_SAMPLE_RATE, Audio
from kinema.engines.preview import kernels
from kinema.engines.preview.scene import Scene

Samples = np.ndarray[Any, np.dtype[np.float32]]
Spectrum = np.ndarray[Any, np.dtype[np.complex64]]
"""The spectrum of stereo white noise: (2, size // 2 + 1), one row per channel."""

PEAK = 0.8
"""Peak sample level: headroom under full scale for AAC's overshoot."""
_PAD_LEVEL = 0.5
_FADE_SECONDS = 0.4


def synthesize_ambience(scene: Scene, samples: int) -> Audio:
    """Return exactly ``samples`` stereo float32 samples of the scene's ambience."""
    if samples <= 0:
        return np.zeros((0, 2), dtype=np.float32)
    rng = scene.rng("audio")
    clock = np.arange(samples, dtype=np.uint32)  # the sample index (see _phase)
    # One white noise, coloured differently for the bed (wind, surf) and for rain.
    white = _white_spectrum(rng, _fast_length(samples))
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
    _fade_in_and_out(mix, max(1.0, min(_FADE_SECONDS, 0.25 * samples / AUDIO_SAMPLE_RATE)
                                   * AUDIO_SAMPLE_RATE))  # fmt: skip
    peak = float(np.abs(mix).max())
    if peak > 0:
        mix *= np.float32(PEAK / peak)
    # Built planar (one contiguous row per channel, which keeps every pass above streaming);
    # the engine's contract is (samples, 2).
    return np.ascontiguousarray(mix.T, dtype=np.float32)


def _fade_in_and_out(mix: Samples, fade: float) -> None:
    """Scale (2, n) ``mix`` by min(i, n - 1 - i) / fade, capped at 1: touching only the ends,
    the only samples where that is below 1."""
    samples = mix.shape[1]
    edge = min(samples, math.ceil(fade))
    if 2 * edge >= samples:  # a clip shorter than both fades
        index = np.arange(samples, dtype=np.float32)
        ramp = np.minimum(index, index[::-1]) / np.float32(fade)
        mix *= np.minimum(ramp, np.float32(1.0))
        return
    head = np.minimum(np.arange(edge, dtype=np.float32) / np.float32(fade), np.float32(1.0))
    mix[:, :edge] *= head
    mix[:, samples - edge :] *= head[::-1]


def _fast_length(samples: int) -> int:
    """The smallest even length of at least ``samples`` with no prime factor above 5: FFTs of
    such lengths are fast, and the next one is never far (a power of two can be almost 2×
    away). Even, because a real FFT of an odd length has no bin count of its own: the
    spectrum's size would round it down, one sample short."""
    half = max(1, (samples + 1) // 2)
    best = 1 << (half - 1).bit_length()
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            length = power35
            while length < half:
                length *= 2
            best = min(best, length)
            power35 *= 3
        power5 *= 5
    return 2 * best


def _white_spectrum(rng: np.random.Generator, size: int) -> Spectrum:
    """The spectrum of ``size`` samples of stereo white noise, drawn directly: independent
    random complex values in every bin, so no forward transform is needed.

    They are uniform, not Gaussian (the FFT of Gaussian noise): drawing uniforms is five times
    cheaper, and each output sample sums every bin, so the noise still comes out Gaussian and
    flat; only the per-bin magnitudes differ, which no ear can hear."""
    bins = size // 2 + 1
    parts = rng.random((2, 2, bins), dtype=np.float32)
    parts -= np.float32(0.5)
    spectrum = np.empty((2, bins), dtype=np.complex64)
    spectrum.real, spectrum.imag = parts[0], parts[1]
    return spectrum


def _shaped(spectrum: Spectrum, gain: np.ndarray[Any, Any], samples: int) -> Samples:
    """White noise filtered by ``gain`` (one value per frequency bin), as (2, samples), its peak
    normalised to 1."""
    size = 2 * (spectrum.shape[1] - 1)
    wave = np.fft.irfft(spectrum * gain.astype(np.float32), n=size, axis=-1)[:, :samples]
    out: Samples = np.ascontiguousarray(wave, dtype=np.float32)
    out /= max(float(np.abs(out).max()), 1e-9)
    return out


def _phase(freq: float, clock: np.ndarray[Any, Any], offset: float) -> Samples:
    """The oscillator angle in [0, 2π] at each sample index of ``clock`` (uint32), for a
    frequency in Hz and a starting point in cycles.

    A 32-bit phase accumulator: uint32 arithmetic wraps exactly when a whole cycle does, so the
    phase stays exact however long the clip (float32 seconds would drift audibly at kHz), and
    only the final turn into radians is float32, which is what makes it cheap.
    """
    turn = 2**32
    step = round(freq / AUDIO_SAMPLE_RATE * turn) % turn
    start = int(offset % 1.0 * turn) % turn
    angle: Samples = kernels.oscillator_angles(step, start, clock.size)
    return angle


def _pad(scene: Scene, clock: np.ndarray[Any, Any], rng: np.random.Generator) -> Samples:
    """Detuned sine pairs per chord note, each breathing slowly, spread across the stereo field."""
    out = np.zeros((2, clock.size), dtype=np.float32)
    voices = scene.sound.chord
    for index, semitones in enumerate(voices):
        freq = scene.sound.root_hz * 2 ** (semitones / 12)
        pan = 0.5 + 0.35 * (index / max(1, len(voices) - 1) - 0.5) * 2
        breath = 0.6 + 0.4 * np.sin(_phase(rng.uniform(0.05, 0.2), clock, rng.uniform(0, 1)))
        for detune, side in ((0.997, 0), (1.003, 1)):
            angle = _phase(freq * detune, clock, rng.uniform(0, 1))
            # Fundamental plus a soft second harmonic (sin 2x = 2 sin x cos x) for warmth.
            tone = np.sin(angle) * (1.0 + 0.4 * np.cos(angle))
            gain = pan if side else 1 - pan
            tone *= breath
            tone *= np.float32(gain)
            out[side] += tone
    out /= np.float32(max(1, len(voices)))
    return out


def _noise(
    scene: Scene, clock: np.ndarray[Any, Any], rng: np.random.Generator, spectrum: Spectrum
) -> Samples:
    """Stereo noise low-passed in the frequency domain, swelling like surf or wind if asked."""
    freqs = np.fft.rfftfreq(2 * (spectrum.shape[1] - 1), 1 / AUDIO_SAMPLE_RATE).astype(np.float32)
    shape = 1 / np.sqrt(1 + (freqs / np.float32(scene.sound.noise_cutoff_hz)) ** 4)  # 2nd order
    shape[freqs < 30] = 0.0  # no rumble below hearing
    noise = _shaped(spectrum, shape, clock.size)
    if scene.sound.swell_hz > 0:
        swell = 0.5 + 0.5 * np.sin(_phase(scene.sound.swell_hz, clock, rng.uniform(0, 1)))
        noise *= 0.25 + 0.75 * swell**2
    return noise


def _crackle(rate: float, samples: int, rng: np.random.Generator) -> Samples:
    """Sparse decaying clicks, like wood popping in a fire."""
    out = np.zeros((2, samples), dtype=np.float32)
    count = rng.poisson(rate * samples / AUDIO_SAMPLE_RATE)
    decay = np.exp(-np.arange(240) / 30.0)
    for start in rng.integers(0, max(1, samples - decay.size), count):
        burst = rng.standard_normal(decay.size) * decay * rng.uniform(0.1, 0.4)
        pan = rng.uniform(0.2, 0.8)
        out[0, start : start + decay.size] += burst[: samples - start] * (1 - pan)
        out[1, start : start + decay.size] += burst[: samples - start] * pan
    return out


def _hum(root_hz: float, clock: np.ndarray[Any, Any], rng: np.random.Generator) -> Samples:
    """A city's low hum: a few harmonics of an engine-and-mains drone, slowly wavering."""
    out = np.zeros((2, clock.size), dtype=np.float32)
    waver = 1.0 + 0.3 * np.sin(_phase(rng.uniform(0.1, 0.3), clock, rng.uniform(0, 1)))
    for harmonic, level in ((1, 1.0), (2, 0.5), (3, 0.25), (4, 0.12)):
        tone = np.sin(_phase(root_hz * harmonic, clock, rng.uniform(0, 1))) * np.float32(level)
        out[0] += tone
        out[1] += np.roll(tone, 37 * harmonic)
    out *= waver / 1.9
    return out


def _rain(samples: int, rng: np.random.Generator, spectrum: Spectrum) -> Samples:
    """Rain: bright, steady hiss (noise above ~1 kHz) plus a patter of tiny droplets."""
    freqs = np.fft.rfftfreq(2 * (spectrum.shape[1] - 1), 1 / AUDIO_SAMPLE_RATE).astype(np.float32)
    band = (freqs / 1000.0) ** 2 / (1 + (freqs / 1000.0) ** 2)  # high-pass at 1 kHz
    band /= np.sqrt(1 + (freqs / 9000.0) ** 4)  # and gently off above 9 kHz
    hiss = _shaped(spectrum, band, samples)
    drops = np.zeros((2, samples), dtype=np.float32)
    count = rng.poisson(40 * samples / AUDIO_SAMPLE_RATE)
    decay = np.exp(-np.arange(96) / 12.0).astype(np.float32)
    # Every droplet at once: a short decaying burst each, at its own time, level and side
    # (bursts near the end are cut off there; overlapping ones add up).
    starts = rng.integers(0, max(1, samples - decay.size), count)
    bursts = rng.standard_normal((count, decay.size), dtype=np.float32) * decay
    bursts *= rng.uniform(0.03, 0.15, (count, 1)).astype(np.float32)
    sides = rng.integers(0, 2, count)
    at = starts[:, None] + np.arange(decay.size)
    inside = at < samples
    np.add.at(drops, (np.broadcast_to(sides[:, None], at.shape)[inside], at[inside]),
              bursts[inside])  # fmt: skip
    return 0.6 * hiss + drops


def _chirps(clock: np.ndarray[Any, Any], rng: np.random.Generator) -> Samples:
    """Night insects: a high tone pulsed in short trills, one cricket per side."""
    out = np.zeros((2, clock.size), dtype=np.float32)
    seconds = clock / AUDIO_SAMPLE_RATE
    for side in (0, 1):
        tone = np.sin(_phase(rng.uniform(4200, 4800), clock, rng.uniform(0, 1)))
        trill = np.sin(_phase(rng.uniform(25, 35), clock, rng.uniform(0, 1))) > 0.3
        period, offset = rng.uniform(0.8, 1.3), rng.uniform(0, 1)
        bursts = np.mod(seconds / period + offset, 1.0) < 0.25
        out[side] = tone * (trill & bursts).astype(np.float32)
    return out


def _thunder(start_seconds: float, samples: int, rng: np.random.Generator) -> Samples:
    """A thunder roll: deep noise that cracks, then rumbles away over a few seconds."""
    out = np.zeros((2, samples), dtype=np.float32)
    start = int(start_seconds * AUDIO_SAMPLE_RATE)
    if start >= samples:
        return out
    length = min(samples - start, int(3.5 * AUDIO_SAMPLE_RATE))
    size = _fast_length(length)
    freqs = np.fft.rfftfreq(size, 1 / AUDIO_SAMPLE_RATE).astype(np.float32)
    shape = 1 / (1 + (freqs / 120.0) ** 2)
    shape[freqs < 25] = 0.0
    rumble = _shaped(_white_spectrum(rng, size), shape, length)
    t = np.arange(length, dtype=np.float32) / AUDIO_SAMPLE_RATE
    envelope = np.minimum(t / 0.05, 1.0) * np.exp(-t / 1.2) * (0.7 + 0.3 * np.sin(7 * t))
    out[:, start : start + length] = rumble * (1.2 * envelope)
    return out
