"""Content screening through HTTP: refused prompts and images in both dialects, charged nothing;
outputs screened on sampled frames, failed or flagged per ``output_screening``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from kinema.api.app import build_services
from kinema.config import Settings
from kinema.domain.errors import CONTENT_POLICY_MESSAGE
from kinema.domain.keys import new_api_key
from kinema.safety.images import ImageScreenError
from tests.safety.screens import MAGENTA
from tests.support import LiveService, png_data_uri, start_service

LITE = "seedance-1-0-lite-t2v-250428"
LITE_I2V = "seedance-1-0-lite-i2v-250428"
ARK = "/api/v3/contents/generations/tasks"
GPTPROTO_T2V = f"/api/v3/bytedance/{LITE}/text-to-video"
GPTPROTO_I2V = f"/api/v3/bytedance/{LITE_I2V}/image-to-video"
SCREEN = "tests.safety.screens:MagentaScreen"
PRICES = f"[{LITE}]\n480p = 0.02\n720p = 0.04\n[{LITE_I2V}]\n480p = 0.02\n720p = 0.04\n"
BLUE = png_data_uri(64, 48, (20, 40, 200))
PINK = png_data_uri(64, 48, MAGENTA)


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """No workers: prices, operator terms, and the test image screen on inputs."""
    folder = tmp_path_factory.mktemp("screened")
    (folder / "prices.toml").write_text(PRICES)
    with start_service(folder, workers=0, prices_file=folder / "prices.toml",
                       blocklist_add=["brand:acme corp"], blocklist_remove=["topless"],
                       image_screen=SCREEN) as live:  # fmt: skip
        yield live


def paying_account(live: LiveService) -> tuple[str, str]:
    store = live.services.store
    account = store.create_account(f"acct-{new_api_key()[3:11]}", Decimal("5"))
    key = new_api_key()
    store.add_api_key(account.id, key)
    return account.id, key


def nothing_happened(live: LiveService, account_id: str) -> None:
    """No task, no hold: the balance is untouched and the ledger has only the top-up."""
    store = live.services.store
    account = store.get_account(account_id)
    assert account is not None and account.balance == Decimal("5")
    summary = store.summary(account_id)
    assert summary is not None and summary.queued == 0
    assert [entry.kind for entry in summary.recent] == ["topup"]


@pytest.mark.parametrize(
    "prompt",
    ["a nude woman on a beach", "a P0RN0 clip", "a man being d e c a p i t a t e d",
     "an ACME corp billboard"],
)  # fmt: skip
def test_refused_prompt_gptproto(screened: LiveService, prompt: str) -> None:
    account_id, key = paying_account(screened)
    with screened.client(key) as client:
        response = client.post(GPTPROTO_T2V, json={"prompt": prompt, "resolution": "480p"})
    assert response.status_code == 400
    assert response.json() == {"error": {"message": CONTENT_POLICY_MESSAGE, "type": "400",
                                         "code": "content_policy_violation"}}  # fmt: skip
    nothing_happened(screened, account_id)


def test_refused_prompt_ark_even_in_inline_commands(screened: LiveService) -> None:
    account_id, key = paying_account(screened)
    body = {"model": LITE, "content": [{"type": "text", "text": "--rs 480p nud3 dancers"}]}
    with screened.client(key) as client:
        response = client.post(ARK, json=body)
        listed = client.get(ARK).json()
    assert response.status_code == 400
    error = response.json()["error"]
    assert error == {"code": "InputTextSensitiveContentDetected",
                     "message": CONTENT_POLICY_MESSAGE, "type": "BadRequest"}  # fmt: skip
    assert listed["total"] == 0
    nothing_happened(screened, account_id)


def test_removed_and_benign_terms_are_accepted(screened: LiveService) -> None:
    _account_id, key = paying_account(screened)
    with screened.client(key) as client:
        for prompt in ("a topless convertible on a coast road", "a lighthouse in a storm"):
            response = client.post(GPTPROTO_T2V, json={"prompt": prompt, "resolution": "480p"})
            assert response.status_code == 200, response.text


def test_refused_input_image_in_both_dialects(screened: LiveService) -> None:
    account_id, key = paying_account(screened)
    with screened.client(key) as client:
        gpt = client.post(GPTPROTO_I2V, json={"prompt": "waves", "image": PINK,
                                              "resolution": "480p"})  # fmt: skip
        ark = client.post(ARK, json={"model": LITE_I2V, "content": [
            {"type": "text", "text": "waves"},
            {"type": "image_url", "image_url": {"url": BLUE}, "role": "first_frame"},
            {"type": "image_url", "image_url": {"url": PINK}, "role": "last_frame"},
        ]})  # fmt: skip
    assert gpt.status_code == 400 and gpt.json()["error"] == {
        "message": CONTENT_POLICY_MESSAGE,
        "type": "400",
        "code": "content_policy_violation",
    }
    assert ark.status_code == 400 and ark.json()["error"] == {
        "code": "InputImageSensitiveContentDetected", "message": CONTENT_POLICY_MESSAGE,
        "type": "BadRequest", "param": "content[2]"}  # fmt: skip
    nothing_happened(screened, account_id)
    # Nothing of the refused submissions was stored.
    inputs = screened.settings.artifacts_dir / "inputs"
    assert not inputs.exists() or not any(inputs.iterdir())


def test_unflagged_input_image_is_accepted(screened: LiveService) -> None:
    _account_id, key = paying_account(screened)
    with screened.client(key) as client:
        response = client.post(GPTPROTO_I2V, json={"prompt": "waves", "image": BLUE,
                                                   "resolution": "480p"})  # fmt: skip
    assert response.status_code == 200, response.text


def test_an_image_screen_that_cannot_load_stops_the_start(tmp_path: Path) -> None:
    for spec, reason in (("tests.safety.nowhere:Screen", "could not be loaded"),
                         ("tests.safety.screens:NOT_A_SCREEN", "not callable")):  # fmt: skip
        with pytest.raises(ImageScreenError, match=reason):
            build_services(Settings(data_dir=tmp_path, image_screen=spec))


def test_the_api_never_imports_torch_without_the_classifier(tmp_path: Path) -> None:
    code = (
        "import sys; from kinema.api.app import build_services, create_app;"
        "from kinema.config import Settings;"
        f"create_app(Settings(data_dir={str(tmp_path)!r}));"
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout  # fmt: skip
    assert out.split() == ["False", "False"]


# -- outputs ---------------------------------------------------------------------------------


def render(live: LiveService, image: str, last_frame: bool = True) -> dict[str, Any]:
    """An image-to-video task through GPTProto, to the end; its ``data``."""
    _account_id, key = paying_account(live)
    with live.client(key) as client:
        body = {"prompt": "calm water", "image": image, "resolution": "480p", "duration": 2,
                "return_last_frame": last_frame, "enable_sync_mode": True}  # fmt: skip
        response = client.post(GPTPROTO_I2V, json=body)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        task = live.wait(client, data["id"])
        data["ark_error"] = task["error"]
        return data


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """A worker whose flagged outputs fail (inputs are not screened, to let them through)."""
    folder = tmp_path_factory.mktemp("output-fail")
    (folder / "prices.toml").write_text(PRICES)
    with start_service(folder, workers=1, prices_file=folder / "prices.toml",
                       image_screen=SCREEN, input_image_screening=False,
                       output_screening="fail") as live:  # fmt: skip
        yield live


def test_flagged_output_fails_the_task_and_is_not_charged(failing: LiveService) -> None:
    data = render(failing, PINK)
    assert data["status"] == "failed" and data["outputs"] == [] and data["has_nsfw_contents"] == []
    assert data["ark_error"]["code"] == "OutputVideoSensitiveContentDetected"
    assert "guidelines" in data["error"]
    task = failing.services.store.get_task(data["id"])
    assert task is not None
    account = failing.services.store.get_account(task.account_id)
    assert account is not None and account.balance == Decimal("5")  # the hold was released
    assert not (failing.settings.artifacts_dir / "outputs" / data["id"]).exists()


def test_unflagged_output_succeeds_with_false_flags(failing: LiveService) -> None:
    data = render(failing, BLUE)
    assert data["status"] == "succeeded"
    assert data["has_nsfw_contents"] == [False, False] and len(data["outputs"]) == 2


def test_flag_only_mode_delivers_and_flags(tmp_path: Path) -> None:
    with start_service(tmp_path, workers=1, image_screen=SCREEN, input_image_screening=False,
                       output_screening="flag") as live:  # fmt: skip
        flagged = render(live, PINK)
        plain = render(live, BLUE, last_frame=False)
        assert flagged["status"] == "succeeded" and len(flagged["outputs"]) == 2
        # The first frame is the magenta image; the preview's last frame has moved away from it.
        assert flagged["has_nsfw_contents"][0] is True
        assert plain["has_nsfw_contents"] == [False]
        assert httpx.get(flagged["outputs"][0]).status_code == 200


def test_a_failing_screen_fails_the_task_closed(tmp_path: Path) -> None:
    with start_service(tmp_path, workers=1, image_screen="tests.safety.screens:BrokenScreen",
                       input_image_screening=False) as live:  # fmt: skip
        data = render(live, BLUE)
    assert data["status"] == "failed" and data["outputs"] == []
    assert "unavailable" in data["error"]
