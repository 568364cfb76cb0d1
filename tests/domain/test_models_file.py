"""The models file: entries as written, Seedance ids served by them, and errors naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kinema.domain.catalog import Mode
from kinema.domain.models_file import ModelsFileError, load_catalog, load_models_file
from kinema.domain.request import Submission, parse_request

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "models.toml"
LITE = "seedance-1-0-lite-t2v-250428"
V15 = "seedance-1-5-pro-251215"
ISSUE_ENTRY = """
[[models]]
id = "wan2.1-t2v-1.3b"
engine = "diffusers"
family = "wan2.1-t2v"
weights = "/models/Wan2.1-T2V-1.3B-Diffusers"
serves = ["seedance-1-0-lite-t2v-250428"]   # optional
steps = 30                                  # optional; family defaults otherwise
"""

BASE = ISSUE_ENTRY.replace("steps = 30", "# steps")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(text)
    return path


def test_the_entry_from_the_issue_works_as_written(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, ISSUE_ENTRY))
    own = catalog.get("wan2.1-t2v-1.3b")
    assert own.engine == "diffusers" and own.modes == {Mode.TEXT}
    assert own.engine_config["steps"] == 30
    assert own.engine_config["weights"] == "/models/Wan2.1-T2V-1.3B-Diffusers"
    assert own.engine_config["dtype"] == "float32"  # half precision is opt-in
    assert own.durations == (2, 5)  # 81 frames at 16 fps
    served = catalog.get(f"doubao-{LITE}")  # aliases reach the served id too
    assert served.id == LITE and served.engine == "diffusers"
    assert served.engine_config == own.engine_config
    # The contract's capabilities hold for the Seedance id.
    assert served.resolutions == ("480p", "720p", "1080p") and served.durations == (2, 12)
    assert served.frames and served.default_resolution == "720p"
    # Ids the file does not mention keep the preview engine.
    assert catalog.get("seedance-1-0-pro-250528").engine == "preview"


def test_relative_weights_resolve_against_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, ISSUE_ENTRY.replace("/models/", "weights/"))
    (entry,) = load_models_file(path)
    assert entry.weights == tmp_path / "weights" / "Wan2.1-T2V-1.3B-Diffusers"


def test_the_example_file_loads(tmp_path: Path) -> None:
    catalog = load_catalog(EXAMPLE)
    i2v = catalog.get("seedance-1-0-lite-i2v-250428")
    # Wan 2.1 I2V does first frames only: the served id loses the modes it cannot do.
    assert i2v.engine == "diffusers" and i2v.modes == {Mode.FIRST_FRAME}
    assert catalog.get("wan2.1-flf2v-14b-720p").modes == {Mode.FIRST_LAST_FRAME}
    assert catalog.get("ltx-video").modes == {Mode.TEXT, Mode.FIRST_FRAME, Mode.FIRST_LAST_FRAME}
    assert catalog.get("ltx-video").engine_config["pipeline_kwargs"]["decode_timestep"] == 0.05


def test_a_served_model_without_audio_ignores_generate_audio(tmp_path: Path) -> None:
    path = write(tmp_path, ISSUE_ENTRY.replace(LITE, "seedance-1-5-pro-251215").replace(
        '"wan2.1-t2v"', '"ltx-video"'))  # fmt: skip
    catalog = load_catalog(path)
    served = catalog.get("seedance-1-5-pro-251215")
    assert not served.audio and served.auto_duration and served.draft
    submission = Submission(model=V15, prompt="waves", fields={"generate_audio": True})
    request = parse_request(catalog, submission)
    assert request.generate_audio is False
    assert (request.width, request.height) == (1280, 720)  # the 1.5 size table still holds


def test_no_file_means_the_seedance_catalog() -> None:
    catalog = load_catalog(None)
    assert {m.engine for m in catalog.models} == {"preview"}


ERRORS = [
    ("step = 3", "key 'step': unknown key"),
    ("steps = -1", "key 'steps': must be an integer from 1 to 1000, got -1"),
    ("steps = 2.5", "key 'steps': must be an integer"),
    ('dtype = "fp8"', "key 'dtype': must be one of float32, bfloat16, float16"),
    ('modes = ["first_frame"]', "key 'modes': 'first_frame' is not one of text"),
    ("durations = [2, 4]", "key 'durations': must satisfy 1 <= low <= 5 <= high"),
    ('ratios = ["1:1"]', "key 'ratios': must include 16:9"),
    ('cpu_offload = "gpu"', "key 'cpu_offload': must be true, false or one of"),
    ("vae_tiling = 1", "key 'vae_tiling': must be a boolean"),
    ("audio = true", "key 'audio': no diffusers family here generates audio"),
    ("pipeline_kwargs = 3", "key 'pipeline_kwargs': must be a table"),
]


@pytest.mark.parametrize(("line", "message"), ERRORS)
def test_errors_name_the_file_the_entry_and_the_key(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write(tmp_path, BASE + line + "\n")
    with pytest.raises(ModelsFileError) as caught:
        load_models_file(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: model 1 ('wan2.1-t2v-1.3b')"), text
    assert message in text, text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ISSUE_ENTRY.replace('family = "wan2.1-t2v"\n', ""), "key 'family': is required"),
        (ISSUE_ENTRY.replace('"wan2.1-t2v"', '"wan9"'), "key 'family': must be one of"),
        (ISSUE_ENTRY.replace('"diffusers"', '"comfy"'), "key 'engine': must be one of"),
        (ISSUE_ENTRY.replace("weights =", "# weights ="), "key 'weights': is required"),
        (ISSUE_ENTRY.replace(LITE, "seedance-9"), "key 'serves': 'seedance-9' is not a Seedance"),
        (ISSUE_ENTRY.replace('"wan2.1-t2v-1.3b"', f'"{LITE}"'), "already taken by"),
        (ISSUE_ENTRY + ISSUE_ENTRY.replace('id = "wan2.1-t2v-1.3b"', 'id = "other"'),
         f"model 2 ('other'): {LITE} is already served by 'wan2.1-t2v-1.3b'"),
        (ISSUE_ENTRY + ISSUE_ENTRY.replace("serves", "# serves"), "is already taken by"),
        ("[models]\nid = 1\n", "'models' must be an array of tables"),
        ("[[model]]\nid = 'x'\n", "unknown top-level key 'model'"),
        ("[[models]\n", "Expected"),
    ],
)  # fmt: skip
def test_file_level_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ModelsFileError) as caught:
        load_models_file(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelsFileError, match="No such file"):
        load_models_file(tmp_path / "absent.toml")


def kinema(*args: str, block_torch: bool = False) -> subprocess.CompletedProcess[str]:
    # Blocking the import of torch makes this machine look like a base install.
    prelude = "import sys; sys.modules['torch'] = None; " if block_torch else ""
    code = prelude + "from kinema.cli import main; sys.argv = ['kinema', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", "import sys; " + code, *args],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_a_worker_without_the_extra_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, ISSUE_ENTRY)
    result = kinema("worker", "--data-dir", str(tmp_path), "--models", str(path),
                    block_torch=True)  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "the diffusers engine needs torch" in line and "wan2.1-t2v-1.3b" in line
    assert line.endswith("pip install 'kinema[diffusers]'")
    # An unknown --model is refused before anything starts, too.
    other = kinema("worker", "--data-dir", str(tmp_path), "--models", str(path),
                   "--model", "nope", block_torch=True)  # fmt: skip
    assert other.returncode == 2 and "nope" in other.stderr


def test_a_broken_models_file_stops_serve_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "steps = 0\n")
    result = kinema("serve", "--data-dir", str(tmp_path), "--models", str(path))
    assert result.returncode == 2
    assert "key 'steps': must be an integer from 1 to 1000" in result.stderr


def test_kinema_models_shows_entries_and_their_weights(tmp_path: Path) -> None:
    path = write(tmp_path, ISSUE_ENTRY)
    result = kinema("models", "--models", str(path))
    assert result.returncode == 0, result.stderr
    assert "wan2.1-t2v-1.3b" in result.stdout
    assert "wan2.1-t2v-1.3b: weights missing or incomplete: weights folder" in result.stdout


def test_the_worker_side_never_imports_torch(tmp_path: Path) -> None:
    path = write(tmp_path, ISSUE_ENTRY)
    code = (
        "import sys; from pathlib import Path\n"
        "from kinema.domain.models_file import load_catalog\n"
        "import kinema.worker.runner, kinema.cli.server, kinema.engines.registry\n"
        f"catalog = load_catalog(Path({str(path)!r}))\n"
        "from kinema.cli.models import check_engines\n"
        "try:\n    check_engines(catalog)\nexcept BaseException:\n    pass  # no extra here\n"
        "print(sorted({'torch', 'diffusers', 'transformers'} & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
