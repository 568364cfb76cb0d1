"""An ambient sound bed for the preview: a soft pad chord over shaped noise, matched to the scene.

Wind gusts over open country, surf swells for the sea, a traffic hum for the city, crackles for
fire, a low drone for space, room tone indoors; rain hiss and droplets, thunder rolls and night
insects when the prompt's weather and time call for them. Synthesised whole (a 15 s clip is
720,000 stereo samples, a few tens of milliseconds): everything steady (the noises, coloured
from one white spectrum, and the pad's and hum's partials with their slow breathing, placed
on the FFT's own frequencies) is one spectrum and one inverse FFT; what is gated or swells in
time (crickets, surf) reads wavetables through compiled 32-bit phase accumulators
(``kernels.add_wave``). The mix is normalised to a fixed peak and faded in and out so the
clip starts and ends without a click.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from kinema.engines.base import AUDIO_SAMPLE_RATE, Audio
from kinema.engines.preview import kernels
from kinema.engines.preview.scene import Scene

Samples = np.ndarray[Any, np.dtype[np.float32]]
Spectrum = np.ndarray[Any, np.dtype[np.complex64]]
"""A stereo spectrum for a real inverse FFT of some even size: (2, size // 2 + 1), one row per
channel."""

PEAK = 0.8
"""Peak sample level: headroom under full scale for AAC's overshoot."""
_PAD_LEVEL = 0.5
_FADE_SECONDS = 0.4
_NOISE_RMS = 0.22
"""Level of every shaped noise before it is mixed: Gaussian noise peaks near 4.5 × its RMS, so
this is about what normalising each to a peak of 1 gave, without a pass to find the peak."""
_EMPTY = np.empty(0, dtype=np.float32)
"""No envelope (see kernels.add_wave)."""

# One cycle of each time-domain oscillator's wave, read by the phase accumulators of add_wave.
_SINE = kernels.wavetable(np.sin)
_SWELL = kernels.wavetable(lambda x: 0.25 + 0.75 * (0.5 + 0.5 * np.sin(x)) ** 2)
_WARM = ((1, 1.0), (2, 0.2))
"""The pad's tone, partial by partial: sin x (1 + 0.4 cos x) = sin x + 0.2 sin 2x."""


def synthesize_ambience(scene: Scene, samples: int) -> Audio:
    """Return exactly ``samples`` stereo float32 samples of the scene's ambience."""
    if samples <= 0:
        return np.zeros((0, 2), dtype=np.float32)
    rng = scene.rng("audio")
    sound = scene.sound
    # Everything steady comes out of one inverse FFT: one white noise, coloured for the bed
    # (wind, surf) and for rain's hiss, plus the pad and the hum, whose partials (and their
    # slow breathing) are placed straight onto the FFT's own frequencies.
    white = _white_spectrum(rng, _fast_length(samples))
    bed, hiss = _noise_gains(scene, white)
    swelling = sound.swell_hz > 0  # a swell is applied in time: the bed then needs its own
    steady = white * (hiss if swelling else bed + hiss)
    _add_pad(steady, scene, rng)
    if sound.hum_hz > 0:
        _add_hum(steady, 0.35, sound.hum_hz, rng)
    mix = _inverse(steady, samples)
    if swelling:
        swell = _wave(_SWELL, sound.swell_hz, rng.uniform(0, 1), samples)
        mix += _inverse(white * bed, samples) * swell
    if sound.crackle > 0:
        mix += _crackle(sound.crackle, samples, rng)
    if sound.rain > 0:
        _add_droplets(mix, sound.rain, rng)
    if sound.chirps > 0:
        _add_chirps(mix, 0.12 * sound.chirps, rng)
    for start in sound.thunder:
        mix += _thunder(start, samples, rng)
    _fade_in_and_out(mix, max(1.0, min(_FADE_SECONDS, 0.25 * samples / AUDIO_SAMPLE_RATE)
                                   * AUDIO_SAMPLE_RATE))  # fmt: skip
    peak = float(np.abs(mix).max())
    if peak > 0:
        mix *= np.float32(PEAK / peak)
    # Built planar (one contiguous row per channel, which keeps every pass above streaming);
    # the engine's contract is (samples, 2). OpenCV interleaves the channels ten times faster
    # than numpy copies a transposed view.
    interleaved: Audio = cv2.merge([mix[0], mix[1]]).reshape(samples, 2)
    return interleaved


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


def _fft_size(bins: int) -> int:
    """The length of the real inverse FFT of a spectrum of ``bins`` bins (always even)."""
    return 2 * (bins - 1)


def _white_spectrum(rng: np.random.Generator, size: int) -> Spectrum:
    """The spectrum of ``size`` samples of stereo white noise, drawn directly: independent
    random complex values in every bin, so no forward transform is needed.

    They are uniform, not Gaussian (the FFT of Gaussian noise): drawing uniforms is five times
    cheaper, and each output sample sums every bin, so the noise still comes out Gaussian and
    flat; only the per-bin magnitudes differ, which no ear can hear."""
    bins = size // 2 + 1
    # Drawn as (real, imaginary) pairs, which is how complex64 lies in memory: a view, no copy.
    parts = rng.random((2, bins, 2), dtype=np.float32)
    parts -= np.float32(0.5)
    spectrum: Spectrum = parts.view(np.complex64).reshape(2, bins)
    return spectrum


def _unit(gain: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """``gain`` scaled so that the noise it shapes has an RMS of ``_NOISE_RMS``.

    Known beforehand, rather than measured: each bin of the white spectrum holds independent
    uniform real and imaginary parts in ±0.5 (variance 1/12 each), and a real inverse FFT of
    size N sums bins 1 … N/2 - 1 twice over, so the noise's variance is Σ gain² / (3 N²).
    Being linear in ``gain``, noises scaled this way can also be summed before a single FFT.
    """
    size = _fft_size(gain.shape[0])
    variance = float(np.sum(np.square(gain[1:-1], dtype=np.float64))) / (3.0 * size * size)
    scale = _NOISE_RMS / max(math.sqrt(variance), 1e-12)
    return (gain * scale).astype(np.float32)


def _accumulator(freq: float, offset: float) -> tuple[int, int]:
    """The step and start of a 32-bit phase accumulator for a frequency in Hz and a starting
    point in cycles (see kernels.add_wave).

    uint32 arithmetic wraps exactly when a whole cycle does, so the phase stays exact however
    long the clip (a float32 clock would drift audibly at kHz).
    """
    turn = 2**32
    return round(freq / AUDIO_SAMPLE_RATE * turn) % turn, int(offset % 1.0 * turn) % turn


def _wave(table: Samples, freq: float, offset: float, samples: int) -> Samples:
    """``samples`` samples of the oscillator ``table`` at ``freq`` Hz, starting ``offset``
    cycles in."""
    out = np.zeros(samples, dtype=np.float32)
    kernels.add_wave(out, table, *_accumulator(freq, offset), 1.0, _EMPTY)
    return out


def _noise_gains(scene: Scene, spectrum: Spectrum) -> tuple[Samples, Samples]:
    """Per-bin gains that colour white noise into the scene's bed (low-passed) and its rain's
    hiss (zero without rain), each at its level in the mix."""
    sound = scene.sound
    freqs = _frequencies(spectrum.shape[1])
    bed = 1 / np.sqrt(1 + (freqs / np.float32(sound.noise_cutoff_hz)) ** 4)  # 2nd order
    bed[freqs < 30] = 0.0  # no rumble below hearing
    hiss = np.zeros_like(bed)
    if sound.rain > 0:
        band = (freqs / 1000.0) ** 2 / (1 + (freqs / 1000.0) ** 2)  # high-pass at 1 kHz
        band /= np.sqrt(1 + (freqs / 9000.0) ** 4)  # and gently off above 9 kHz
        hiss = (0.6 * sound.rain) * _unit(band)
    return sound.noise_level * _unit(bed), hiss


def _frequencies(bins: int) -> Samples:
    """Each bin's frequency in Hz, for a spectrum of ``bins`` bins (np.fft.rfftfreq's values,
    made in float32 directly: ten times faster than its float64 and a conversion)."""
    step = np.float32(AUDIO_SAMPLE_RATE / _fft_size(bins))
    return np.arange(bins, dtype=np.float32) * step


def _inverse(spectrum: Spectrum, samples: int) -> Samples:
    """The first ``samples`` samples of the (2, bins) spectrum's real inverse FFT."""
    size = _fft_size(spectrum.shape[1])
    wave = np.fft.irfft(spectrum, n=size, axis=-1)[:, :samples]
    return np.ascontiguousarray(wave, dtype=np.float32)


def _bin(freq: float, size: int, lowest: int = 0) -> int:
    """The FFT bin nearest ``freq`` Hz (size / 48,000 bins per Hz: 0.19 Hz apart for 5 s)."""
    return max(lowest, round(freq * size / AUDIO_SAMPLE_RATE))


def _add_partial(row: Spectrum, k: int, amplitude: float, phase: float) -> None:
    """Add amplitude × cos(2π k n / size + phase) to the signal of one channel's spectrum."""
    size = _fft_size(row.shape[0])
    if 0 < k < row.shape[0] - 1:  # audible bins only: no DC, no Nyquist
        # A real inverse FFT of size N turns bin k's X into (2 / N) Re(X e^{2πikn/N}).
        row[k] += amplitude * size / 2 * complex(math.cos(phase), math.sin(phase))


def _add_breathing(
    row: Spectrum,
    k: int,
    amplitude: float,
    phase: float,
    depth: float,
    slow: int,
    slow_phase: float,
) -> None:
    """Add amplitude × sin(x) × (1 + depth × sin(y)), x at bin ``k`` and ``phase``, y a slow
    swell at bin ``slow`` and ``slow_phase``: the partial and two sidebands, since
    sin x sin y = (cos(x - y) - cos(x + y)) / 2."""
    _add_partial(row, k, amplitude, phase - math.pi / 2)
    side = amplitude * depth / 2
    _add_partial(row, k - slow, side, phase - slow_phase)
    _add_partial(row, k + slow, side, phase + slow_phase + math.pi)


def _add_pad(spectrum: Spectrum, scene: Scene, rng: np.random.Generator) -> None:
    """Detuned warm tone pairs per chord note, each breathing slowly (0.6 to 1 of its level),
    spread across the stereo field; a chord's worth of them sums to at most ``_PAD_LEVEL``.

    Each frequency is rounded to the FFT's nearest bin, at most 0.1 Hz away for a 5 s clip:
    far below what an ear tells apart, and the detuned pairs still beat.
    """
    size = _fft_size(spectrum.shape[1])
    voices = scene.sound.chord
    for index, semitones in enumerate(voices):
        freq = scene.sound.root_hz * 2 ** (semitones / 12)
        pan = 0.5 + 0.35 * (index / max(1, len(voices) - 1) - 0.5) * 2
        breath = _bin(rng.uniform(0.05, 0.2), size, lowest=1)
        breath_phase = 2 * math.pi * rng.uniform(0, 1)
        for detune, side in ((0.997, 0), (1.003, 1)):
            gain = 0.6 * (pan if side else 1 - pan) * _PAD_LEVEL / max(1, len(voices))
            k, phase = _bin(freq * detune, size), 2 * math.pi * rng.uniform(0, 1)
            for harmonic, level in _WARM:
                _add_breathing(spectrum[side], harmonic * k, gain * level, harmonic * phase,
                               2 / 3, breath, breath_phase)  # fmt: skip


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


def _add_hum(spectrum: Spectrum, level: float, root_hz: float, rng: np.random.Generator) -> None:
    """A city's low hum: a few harmonics of an engine-and-mains drone, slowly wavering (±30%),
    the right channel a few samples behind the left."""
    size = _fft_size(spectrum.shape[1])
    waver = _bin(rng.uniform(0.1, 0.3), size, lowest=1)
    waver_phase = 2 * math.pi * rng.uniform(0, 1)
    root = _bin(root_hz, size)
    for harmonic, loudness in ((1, 1.0), (2, 0.5), (3, 0.25), (4, 0.12)):
        k, phase = harmonic * root, 2 * math.pi * rng.uniform(0, 1)
        for side, lag in ((0, 0), (1, 37 * harmonic)):  # the right, 37 × harmonic samples late
            late = phase - 2 * math.pi * k * lag / size
            _add_breathing(spectrum[side], k, loudness * level / 1.9, late, 0.3, waver,
                           waver_phase)  # fmt: skip


def _add_droplets(mix: Samples, level: float, rng: np.random.Generator) -> None:
    """Add rain's patter of tiny droplets to (2, samples) ``mix`` (its hiss is one of the
    scene's noises)."""
    samples = mix.shape[1]
    count = rng.poisson(40 * samples / AUDIO_SAMPLE_RATE)
    decay = np.exp(-np.arange(96) / 12.0).astype(np.float32)
    # Every droplet at once: a short decaying burst each, at its own time, level and side
    # (bursts near the end are cut off there; overlapping ones add up).
    starts = rng.integers(0, max(1, samples - decay.size), count)
    bursts = rng.standard_normal((count, decay.size), dtype=np.float32) * decay
    bursts *= (level * rng.uniform(0.03, 0.15, (count, 1))).astype(np.float32)
    sides = rng.integers(0, 2, count)
    kernels.add_bursts(mix, sides, starts, bursts)


def _add_chirps(mix: Samples, level: float, rng: np.random.Generator) -> None:
    """Night insects: a high tone pulsed in short trills, one cricket per side."""
    samples = mix.shape[1]
    seconds = np.arange(samples, dtype=np.float64) / AUDIO_SAMPLE_RATE
    for side in (0, 1):
        step, start = _accumulator(rng.uniform(4200, 4800), rng.uniform(0, 1))
        trill = _wave(_SINE, rng.uniform(25, 35), rng.uniform(0, 1), samples) > 0.3
        period, offset = rng.uniform(0.8, 1.3), rng.uniform(0, 1)
        bursts = np.mod(seconds / period + offset, 1.0) < 0.25
        gate = (trill & bursts).astype(np.float32)
        kernels.add_wave(mix[side], _SINE, step, start, level, gate)


def _thunder(start_seconds: float, samples: int, rng: np.random.Generator) -> Samples:
    """A thunder roll: deep noise that cracks, then rumbles away over a few seconds."""
    out = np.zeros((2, samples), dtype=np.float32)
    start = int(start_seconds * AUDIO_SAMPLE_RATE)
    if start >= samples:
        return out
    length = min(samples - start, int(3.5 * AUDIO_SAMPLE_RATE))
    size = _fast_length(length)
    freqs = _frequencies(size // 2 + 1)
    shape = 1 / (1 + (freqs / 120.0) ** 2)
    shape[freqs < 25] = 0.0
    rumble = _inverse(_white_spectrum(rng, size) * _unit(shape), length)
    t = np.arange(length, dtype=np.float32) / AUDIO_SAMPLE_RATE
    envelope = np.minimum(t / 0.05, 1.0) * np.exp(-t / 1.2) * (0.7 + 0.3 * np.sin(7 * t))
    out[:, start : start + length] = rumble * (1.2 * envelope)
    return out
