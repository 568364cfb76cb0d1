"""Preview engine speed: rendering + encoding against the encoder alone, memory, and HTTP latency.

What it measures
    1. Engine + media. For 16:9 clips at 480p (864×480), 720p (1280×720) and 1080p (1920×1088),
       5 s (121 frames) and 12 s (289 frames) long, the preview engine renders a fixed prompt
       (``--prompt``; audio on) and ``kinema.media.encode.encode_mp4`` encodes it to an MP4 in a
       temporary folder: exactly what the engine child does for a task, minus the pipe. In the
       same run, the *floor*: ``encode_mp4`` fed the same number of frames of a trivial pattern
       (a handful of frames made beforehand in the encoder's own I420, cycled, so producing a
       frame costs nothing, not even a colour conversion), with the same encoder settings
       (``--preset``, crf, threads) and the same sound track, also made beforehand: encoding
       that track (AAC) is the encoder's work, making it is the engine's. (Until this version
       the floor was fed RGB frames, converted as it went, and a plain tone, which AAC encodes
       far faster than an ambience.) Each figure is ``--repeat`` runs, the pipeline's and the
       floor's interleaved (see "How to read it" for the two ratios made of them).
    2. Phases. The 480p 5 s clip again, pipeline and floor interleaved as above, each run split
       where the frames are ready: until the first frame is ready (the engine's set-up and first
       frame; the floor's frames exist already), from the first to the last, and after the last
       (x264 drains and the MP4 is written). The medians say where the pipeline's extra time is
       spent: before x264 has anything to do, or beside it.
    3. Scenes. The 480p 5 s clip again for one prompt per scene of the vocabulary (sky, sea,
       city, space, forest, fire, room, rain, snow, abstract; each with camera language), since
       what x264 costs depends on the picture: the pipeline and the floor as above, and between
       them the encoder alone on that scene (its frames rendered and its track made before the
       clock starts). That splits each scene's ratio (median of pairs) into what encoding its
       pictures costs over the pattern's, and what the engine adds on top. ``--skip-scenes``
       leaves it out.
    4. Memory. Peak resident memory (``ru_maxrss``) of a fresh process that renders and encodes
       a 1080p clip, 5 s against 12 s, next to the same process's memory before rendering: if
       frames are streamed to the encoder (never a whole clip in memory), the two peaks match.
    5. HTTP. ``kinema serve --workers 1`` started as a subprocess on a scratch data directory
       (its API key read from its stdout, ``/healthz`` awaited), a warm-up task per size, then
       ``--http-runs`` submissions each of a 5 s 480p clip (seedance-1-0-lite-t2v-250428) and a
       5 s 1080p clip (seedance-1-0-pro-250528), one at a time, through the GPTProto routes: the
       time from sending the submit to reading ``succeeded`` from the result route, polled every
       10 ms. ``run`` is the task's own ``executionTime`` (the worker's render + encode + store);
       the difference is queueing, claiming and the API.

How to read it
    ``fps`` is frames per second of wall time; ``× real time`` is clip seconds over wall seconds
    (above 1 is faster than real time); ``CPU s`` is the CPU time of all the process's threads
    over the same run (on 2 cores the encoder alone keeps both busy, so every CPU second the
    engine spends shows in the wall time). ``ratio`` is the pipeline's seconds over the floor's:
    1.00 means rendering costs nothing over encoding (the encoder thread and the render overlap
    perfectly); the target is at most 1.3. It is given two ways, because the machine is shared
    and its speed drifts by a third from one second to the next. *Best*: the fastest pipeline
    run over the fastest floor run (each the least disturbed of its kind, though perhaps not
    disturbed alike). *Median of pairs*: each pipeline run over the floor run made right after
    it, so a slow spell slows both; the median of those, with its quartiles, is the steadier
    figure from one invocation to the next. x264 is the floor on purpose — no preview engine can
    beat the encoder its videos must go through — so the ratio says what the engine costs, and
    absolute figures say what this machine can do (on 2 cores, ``ultrafast``: about 270 fps at
    480p and 90-150 fps at 1080p). The HTTP targets (5 s 480p under 1 s, 5 s 1080p under 6 s,
    submit to ``succeeded``) are printed beside the medians. Nothing is asserted: this script
    never fails on time.

Run: ``python bench/preview.py [--repeat N] [--preset P] [--skip-scenes] [--skip-memory]
[--skip-http] [--http-runs N]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/preview.py``, this folder is first on sys.path, and bench/queue.py would
# shadow the standard ``queue`` module the encoder uses. Drop that entry (as bench/api.py does).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import os

# As in the engine child (kinema.worker.engine_process), before numpy and OpenCV are imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OPENCV_FOR_THREADS_NUM", "1")

import argparse
import platform
import resource
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kinema.engines.base import I420Frame, OutputFrame, RenderSpec
from kinema.engines.preview import PreviewEngine
from kinema.engines.preview.audio import synthesize_ambience
from kinema.engines.preview.scene import choose_scene
from kinema.media.encode import encode_mp4

PROMPT = "a paper boat drifting down a rain-soaked street at dusk, neon reflections, slow pan left"
SIZES = {"480p": (864, 480), "720p": (1280, 720), "1080p": (1920, 1088)}
LENGTHS = {5: 121, 12: 289}
FPS = 24
SCENE_PROMPTS = {
    "sky": "golden clouds drifting over the mountains, slow pan right",
    "sea": "waves rolling on the ocean at sunset, slow zoom in",
    "city": "a city street at night with neon signs, pan left",
    "space": "stars over a distant planet, slow orbit",
    "forest": "a forest of pine trees in the morning, dolly forward",
    "fire": "a campfire burning under the night sky",
    "room": "a cosy living room with a warm lamp, slow pan right",
    "rain": PROMPT,
    "snow": "snow falling on a quiet village, slow zoom out",
    "abstract": "melancholy",
}
"""One prompt per scene of the vocabulary, for the scene sweep (480p, 5 s)."""
SCENE_SIZE = "480p"
SCENE_SECONDS = 5
SCENE_FRAMES = LENGTHS[SCENE_SECONDS]
HTTP_MODELS = {"480p": "seedance-1-0-lite-t2v-250428", "1080p": "seedance-1-0-pro-250528"}
HTTP_TARGETS = {"480p": 1.0, "1080p": 6.0}
RATIO_TARGET = 1.3
POLL_SECONDS = 0.01
TASK_TIMEOUT_SECONDS = 60.0


# -- engine + media ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    """CPU seconds of this process (all its threads) over the same span."""


@dataclass(frozen=True)
class Runs:
    """Every run of one measure, in the order they were made (interleaved with the others')."""

    timings: tuple[Timing, ...]

    @property
    def best(self) -> Timing:
        return min(self.timings, key=lambda t: t.wall)

    def ratios(self, other: Runs) -> list[float]:
        """Run k's wall time over ``other``'s run k: measured side by side, so a slow spell of
        the machine slows both."""
        return [a.wall / b.wall for a, b in zip(self.timings, other.timings, strict=True)]

    def paired_ratio(self, other: Runs) -> float:
        """The median of :meth:`ratios`."""
        return statistics.median(self.ratios(other))


@dataclass(frozen=True)
class Row:
    size: str
    seconds_of_video: int
    frames: int
    pipeline: Runs
    floor: Runs


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(run: Any) -> Timing:
    wall, cpu = time.perf_counter(), _cpu_seconds()
    run()
    return Timing(time.perf_counter() - wall, _cpu_seconds() - cpu)


def spec_for(width: int, height: int, frames: int, prompt: str) -> RenderSpec:
    return RenderSpec(model="bench", prompt=prompt, width=width, height=height,
                      frame_count=frames, fps=FPS, seed=1, generate_audio=True)  # fmt: skip


def pattern(width: int, height: int) -> list[I420Frame]:
    """Eight frames of a trivial moving pattern (a shifting colour ramp and a sliding bar), in
    the encoder's own I420."""
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    made = []
    for k in range(8):
        frame = np.empty((height, width, 3), dtype=np.uint8)
        frame[..., 0] = ((ramp + 32 * k) % 256).astype(np.uint8)
        frame[..., 1] = np.linspace(40, 200, height, dtype=np.uint8)[:, None]
        frame[..., 2] = 128
        frame[:, (k * width // 8) : (k * width // 8) + width // 16] = 255
        made.append(I420Frame(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)))
    return made


def cycled(frames: list[I420Frame], count: int) -> Iterator[I420Frame]:
    for index in range(count):
        yield frames[index % len(frames)]


def pipeline_run(
    spec: RenderSpec, folder: Path, preset: str, threads: int, ready: list[float] | None = None
) -> Callable[[], None]:
    """Render and encode ``spec``, noting when each frame is ready in ``ready`` if given."""

    def run() -> None:
        clip = PreviewEngine().render(spec, lambda _: None, lambda: False)
        frames = clip.frames if ready is None else stamped(clip.frames, ready)
        encode_mp4(folder / "pipeline.mp4", frames, width=spec.width, height=spec.height,
                   fps=spec.fps, frame_count=spec.frame_count, audio=clip.audio, preset=preset,
                   threads=threads)  # fmt: skip

    return run


def floor_run(
    spec: RenderSpec, folder: Path, preset: str, threads: int, ready: list[float] | None = None
) -> Callable[[], None]:
    """Encode ``spec``'s number of pattern frames, as :func:`pipeline_run` does its own."""
    # Made before the clock starts: the frames, and the very track the pipeline encodes.
    audio = synthesize_ambience(choose_scene(spec), spec.audio_samples)
    made = pattern(spec.width, spec.height)

    def run() -> None:
        frames = cycled(made, spec.frame_count)
        encode_mp4(folder / "floor.mp4", frames if ready is None else stamped(frames, ready),
                   width=spec.width, height=spec.height, fps=spec.fps,
                   frame_count=spec.frame_count, audio=audio, preset=preset,
                   threads=threads)  # fmt: skip

    return run


def time_pipeline(spec: RenderSpec, folder: Path, preset: str, threads: int) -> Timing:
    return _timed(pipeline_run(spec, folder, preset, threads))


def time_floor(spec: RenderSpec, folder: Path, preset: str, threads: int) -> Timing:
    return _timed(floor_run(spec, folder, preset, threads))


def time_encoder_alone(spec: RenderSpec, folder: Path, preset: str, threads: int) -> Timing:
    """The encoder on this very clip: its frames rendered and its track made beforehand."""
    clip = PreviewEngine().render(spec, lambda _: None, lambda: False)
    frames = list(clip.frames)  # 75 MB at 480p 5 s
    audio = synthesize_ambience(choose_scene(spec), spec.audio_samples)

    def run() -> None:
        encode_mp4(folder / "alone.mp4", iter(frames), width=spec.width, height=spec.height,
                   fps=spec.fps, frame_count=spec.frame_count, audio=audio, preset=preset,
                   threads=threads)  # fmt: skip

    return _timed(run)


def stamped(frames: Iterable[OutputFrame], ready: list[float]) -> Iterator[OutputFrame]:
    """``frames``, noting the time each is ready, just before it is handed to the encoder."""
    for frame in frames:
        ready.append(time.perf_counter())
        yield frame


Phases = tuple[float, float, float]
"""Seconds until the first frame is ready, from the first to the last, and after the last."""


def phases(
    make: Callable[..., Callable[[], None]],
    spec: RenderSpec,
    folder: Path,
    preset: str,
    threads: int,
) -> Phases:
    """The phases of one run of ``make`` (:func:`pipeline_run` or :func:`floor_run`)."""
    ready: list[float] = []
    run = make(spec, folder, preset, threads, ready)
    start = time.perf_counter()
    run()
    end = time.perf_counter()
    return ready[0] - start, ready[-1] - ready[0], end - ready[-1]


def measure_phases(args: argparse.Namespace) -> tuple[Phases, Phases]:
    """Median phases of the 480p 5 s clip's pipeline and floor, ``--repeat`` runs each,
    interleaved."""
    width, height = SIZES[SCENE_SIZE]
    spec = spec_for(width, height, SCENE_FRAMES, args.prompt)
    pipeline: list[Phases] = []
    floor: list[Phases] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(args.repeat):
            pipeline.append(phases(pipeline_run, spec, folder, args.preset, args.threads))
            floor.append(phases(floor_run, spec, folder, args.preset, args.threads))

    def medians(runs: list[Phases]) -> Phases:
        start, frames, tail = (statistics.median(run[k] for run in runs) for k in range(3))
        return start, frames, tail

    return medians(pipeline), medians(floor)


def phase_table(pipeline: Phases, floor: Phases) -> list[str]:
    names = ("until the first frame is ready", "first to last frame ready",
             "after the last frame (x264 drains, MP4 written)")  # fmt: skip
    lines = ["| phase (medians) | pipeline ms | floor ms | difference ms | difference / floor's "
             "whole |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    whole = sum(floor)
    rows = [*zip(names, pipeline, floor, strict=True), ("whole", sum(pipeline), whole)]
    for name, ours, theirs in rows:
        extra = ours - theirs
        lines.append(f"| {name} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | {extra * 1e3:+.1f} | "
                     f"{extra / whole:+.2f} |")  # fmt: skip
    return lines


@dataclass(frozen=True)
class SceneRow:
    scene: str
    prompt: str
    pipeline: Runs
    alone: Runs
    floor: Runs


Measure = Callable[[RenderSpec, Path, str, int], Timing]


def interleaved(
    args: argparse.Namespace, spec: RenderSpec, folder: Path, measures: Sequence[Measure]
) -> list[Runs]:
    """``--repeat`` runs of each measure, interleaved (one of each, then again) so that all of
    them see the same machine load."""
    runs: list[list[Timing]] = [[] for _ in measures]
    for _ in range(args.repeat):
        for measure, timings in zip(measures, runs, strict=True):
            timings.append(measure(spec, folder, args.preset, args.threads))
    return [Runs(tuple(timings)) for timings in runs]


def measure_scenes(args: argparse.Namespace) -> list[SceneRow]:
    rows = []
    width, height = SIZES[SCENE_SIZE]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for scene, prompt in SCENE_PROMPTS.items():
            spec = spec_for(width, height, SCENE_FRAMES, prompt)
            time_pipeline(spec, folder, args.preset, args.threads)  # this scene's first use
            runs = interleaved(args, spec, folder, (time_pipeline, time_encoder_alone, time_floor))
            rows.append(SceneRow(scene, prompt, *runs))
            print(f"  measured {scene}", file=sys.stderr, flush=True)
    return rows


def scene_table(rows: list[SceneRow]) -> list[str]:
    lines = [
        "| scene | prompt | pipeline s | encoder alone s | floor s | ratio, best | ratio, median "
        "of pairs | encoder alone / floor | engine's share |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        pipeline, alone, floor = r.pipeline.best, r.alone.best, r.floor.best
        paired, alone_paired = r.pipeline.paired_ratio(r.floor), r.alone.paired_ratio(r.floor)
        lines.append(
            f"| {r.scene} | {r.prompt} | {pipeline.wall:.3f} | {alone.wall:.3f} | "
            f"{floor.wall:.3f} | {pipeline.wall / floor.wall:.2f} | {paired:.2f} | "
            f"{alone_paired:.2f} | {paired - alone_paired:+.2f} |"
        )
    return lines


def measure_media(args: argparse.Namespace) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # Warm up imports, OpenCV and x264 once.
        time_pipeline(spec_for(864, 480, 25, args.prompt), folder, args.preset, args.threads)
        for size, (width, height) in SIZES.items():
            for seconds, frames in LENGTHS.items():
                spec = spec_for(width, height, frames, args.prompt)
                runs = interleaved(args, spec, folder, (time_pipeline, time_floor))
                rows.append(Row(size, seconds, frames, *runs))
                print(f"  measured {size} {seconds} s", file=sys.stderr, flush=True)
    return rows


def media_table(rows: list[Row]) -> list[str]:
    lines = [
        "| clip | frames | pipeline s | fps | × real time | CPU s | floor s | floor fps "
        "| floor CPU s | ratio, best | ratio, median of pairs (quartiles) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        p, f = r.pipeline.best, r.floor.best
        low, _, high = statistics.quantiles(r.pipeline.ratios(r.floor), n=4)
        lines.append(
            f"| {r.size} {r.seconds_of_video} s | {r.frames} | {p.wall:.2f} | "
            f"{r.frames / p.wall:.0f} | {r.frames / FPS / p.wall:.1f} | {p.cpu:.2f} | "
            f"{f.wall:.2f} | {r.frames / f.wall:.0f} | {f.cpu:.2f} | {p.wall / f.wall:.2f} | "
            f"{r.pipeline.paired_ratio(r.floor):.2f} ({low:.2f}-{high:.2f}) |"
        )
    return lines


# -- memory -----------------------------------------------------------------------------------


def memory_probe(width: int, height: int, frames: int, prompt: str, preset: str) -> None:
    """Child-process mode: render + encode once, print RSS before and peak RSS (MiB)."""
    spec = spec_for(width, height, frames, prompt)
    with tempfile.TemporaryDirectory() as tmp:
        time_pipeline(spec_for(64, 48, 2, prompt), Path(tmp), preset, 2)  # imports, first use
        before = _rss_mib()
        time_pipeline(spec, Path(tmp), preset, 2)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{before:.1f} {peak:.1f}")


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure_memory(args: argparse.Namespace) -> list[str]:
    lines = ["| clip | RSS before render MiB | peak RSS MiB |", "|---|---:|---:|"]
    width, height = SIZES["1080p"]
    for seconds, frames in LENGTHS.items():
        out = subprocess.run(
            [sys.executable, __file__, "--memory-probe", f"{width}x{height}x{frames}",
             "--prompt", args.prompt, "--preset", args.preset],
            check=True, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        lines.append(f"| 1080p {seconds} s | {float(out[0]):.0f} | {float(out[1]):.0f} |")
    return lines


# -- HTTP -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Serve:
    """A running ``kinema serve``."""

    process: subprocess.Popen[str]
    base: str
    key: str
    drain: threading.Thread
    """Copies its stdout to the log until it exits."""


def start_serve(data_dir: Path, preset: str, log: Any) -> Serve:
    """``kinema serve --workers 1``, its stdout and stderr to ``log``, ready for requests."""
    import httpx

    port = free_port()
    # Polling every 10 ms is far above the default 600 requests per minute per key.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "KINEMA_ENCODER_PRESET": preset,
           "KINEMA_DEFAULT_RPM": "1000000"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "kinema", "serve", "--workers", "1", "--port", str(port),
         "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=log, text=True, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    key = ""
    deadline = time.monotonic() + 120
    while not key:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError("kinema serve exited before printing its API key")
        if line.startswith("sk-"):
            key = line.strip()
        if time.monotonic() > deadline:
            raise RuntimeError("kinema serve printed no API key")
    # Keep reading its stdout (uvicorn's access log is there): a full pipe would stall the server.
    stdout = process.stdout
    drain = threading.Thread(target=lambda: log.writelines(stdout), daemon=True)
    drain.start()
    base = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("kinema serve did not become ready")
        time.sleep(0.05)
    return Serve(process, base, key, drain)


def submit_and_wait(client: Any, size: str, seed: int, prompt: str) -> tuple[float, float]:
    """Seconds from submit to ``succeeded``, and the task's own executionTime in seconds."""
    model = HTTP_MODELS[size]
    body = {"prompt": prompt, "resolution": size, "duration": 5, "aspect_ratio": "16:9",
            "seed": seed}  # fmt: skip
    start = time.perf_counter()
    response = client.post(f"/api/v3/bytedance/{model}/text-to-video", json=body)
    response.raise_for_status()
    task_id = response.json()["data"]["id"]
    while time.perf_counter() - start < TASK_TIMEOUT_SECONDS:
        response = client.get(f"/api/v3/predictions/{task_id}/result")
        response.raise_for_status()
        data = response.json()["data"]
        if data["status"] == "succeeded":
            return time.perf_counter() - start, data["executionTime"] / 1000
        if data["status"] in ("failed", "expired", "cancelled"):
            raise RuntimeError(f"task {task_id} {data['status']}: {data['error']}")
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"task {task_id} did not finish in {TASK_TIMEOUT_SECONDS:g} s")


def measure_http(args: argparse.Namespace) -> list[str]:
    import httpx

    lines = [
        "| clip | runs | submit→succeeded median s | best s | run (executionTime) median s "
        "| target s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "serve.log", "w+") as log:
        serve = start_serve(Path(tmp) / "data", args.preset, log)
        try:
            headers = {"Authorization": f"Bearer {serve.key}"}
            with httpx.Client(base_url=serve.base, headers=headers, timeout=30) as client:
                for size in HTTP_MODELS:
                    submit_and_wait(client, size, 0, args.prompt)  # warm-up
                for size in HTTP_MODELS:
                    runs = [submit_and_wait(client, size, seed, args.prompt)
                            for seed in range(1, args.http_runs + 1)]  # fmt: skip
                    totals = [total for total, _ in runs]
                    executions = [execution for _, execution in runs]
                    lines.append(
                        f"| {size} 5 s | {len(runs)} | {statistics.median(totals):.2f} | "
                        f"{min(totals):.2f} | {statistics.median(executions):.2f} | "
                        f"< {HTTP_TARGETS[size]:g} |"
                    )
        except Exception:
            log.seek(0)
            print("kinema serve's log (last lines):", *log.readlines()[-30:], sep="\n",
                  file=sys.stderr)  # fmt: skip
            raise
        finally:
            serve.process.terminate()
            try:
                serve.process.wait(30)
            except subprocess.TimeoutExpired:
                serve.process.kill()
            serve.drain.join(5)
    return lines


# -- main -------------------------------------------------------------------------------------


def environment(args: argparse.Namespace) -> str:
    import av

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"Python {platform.python_version()}, PyAV {av.__version__}, {os.cpu_count()} CPUs "
            f"(load average {load}), preset {args.preset}, encoder threads {args.threads}, "
            f"{args.repeat} interleaved runs per figure")  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=9,
                        help="interleaved runs per figure (at least 2)")  # fmt: skip
    parser.add_argument("--preset", default="ultrafast", help="x264 preset (Kinema's default)")
    parser.add_argument("--threads", type=int, default=2, help="encoder threads (the child's)")
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--skip-http", action="store_true", help="no kinema serve runs")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-scenes", action="store_true", help="no per-scene 480p sweep")
    parser.add_argument("--http-runs", type=int, default=5)
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 2:
        parser.error("--repeat must be at least 2 (the paired ratio's quartiles need two runs)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.memory_probe:
        width, height, frames = (int(v) for v in args.memory_probe.split("x"))
        memory_probe(width, height, frames, args.prompt, args.preset)
        return
    print(f"Preview engine benchmark: {environment(args)}")
    print(f'Prompt: "{args.prompt}"\n')
    rows = measure_media(args)
    print("Engine + media (render and encode through kinema.media, audio on) against the "
          "encoder floor (trivial frames, same settings); target ratio "
          f"≤ {RATIO_TARGET}:\n")  # fmt: skip
    print("\n".join(media_table(rows)))
    print(f"\nWhere the {SCENE_SIZE} {SCENE_SECONDS} s clip's time goes (the sum of medians "
          "need not be the median of sums):\n")  # fmt: skip
    print("\n".join(phase_table(*measure_phases(args))))
    if not args.skip_scenes:
        scenes = measure_scenes(args)
        print(f"\nBy scene ({SCENE_SIZE} {SCENE_FRAMES} frames; encoder alone = the same "
              "encoder on the scene's own frames and track, made beforehand):\n")  # fmt: skip
        print("\n".join(scene_table(scenes)))
    if not args.skip_memory:
        print("\nMemory (a fresh process per clip; flat means frames are streamed):\n")
        print("\n".join(measure_memory(args)))
    if not args.skip_http:
        print("\nThrough HTTP (kinema serve --workers 1; GPTProto submit, result polled every "
              "10 ms):\n")  # fmt: skip
        try:
            print("\n".join(measure_http(args)))
        except Exception as exc:  # a broken server is a finding, not a reason to lose the rest
            print(f"HTTP measurement failed: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
