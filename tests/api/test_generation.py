"""From prompt to a real MP4 through HTTP: both dialects, outputs checked at ffprobe level."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from kinema.media.image import cover_resize, decode_image
from kinema.media.probe import probe
from tests.support import LiveService, png_data_uri

LITE = "seedance-1-0-lite-t2v-250428"
LITE_I2V = "seedance-1-0-lite-i2v-250428"
V15 = "seedance-1-5-pro-251215"
ARK = "/api/v3/contents/generations/tasks"


def gptproto_until_done(client: httpx.Client, task_id: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        data: dict[str, Any] = client.get(f"/api/v3/predictions/{task_id}/result").json()["data"]
        if data["status"] in ("succeeded", "failed", "expired", "cancelled"):
            return data
        time.sleep(0.05)
    raise AssertionError(f"{task_id} did not finish")


def download(url: str, target: Path) -> Path:
    # Output URLs need no API key: a plain client fetches them.
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    target.write_bytes(response.content)
    return target


def ffprobe(path: Path) -> dict[str, Any]:
    if shutil.which("ffprobe") is None:
        if os.environ.get("KINEMA_REQUIRE_FFPROBE") == "1":
            pytest.fail("ffprobe is required here (apt-get install ffmpeg)")
        pytest.skip("ffprobe is not installed (apt-get install ffmpeg)")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(out)
    return result


def video_stream(info: dict[str, Any]) -> dict[str, Any]:
    streams: list[dict[str, Any]] = info["streams"]
    return next(s for s in streams if s["codec_type"] == "video")


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_gptproto_text_to_video_makes_a_real_mp4(service: LiveService, tmp_path: Path) -> None:
    with service.client(service.new_key()) as client:
        response = client.post(
            f"/api/v3/bytedance/doubao-{LITE}/text-to-video",
            json={"prompt": "a red kite over the sea", "resolution": "480p", "duration": 3,
                  "seed": 42, "generate_audio": None},
        )  # fmt: skip
        assert response.status_code == 200
        submitted = response.json()
        assert submitted["code"] == 200 and submitted["message"] == "success"
        data = submitted["data"]
        assert data["model"] == LITE
        assert data["status"] in ("queued", "running", "succeeded")
        assert data["urls"]["get"].endswith(f"/api/v3/predictions/{data['id']}/result")
        assert data["created_at"].endswith("Z") and len(data["created_at"]) == 24
        done = gptproto_until_done(client, data["id"])
    assert done["status"] == "succeeded", done
    assert done["error"] is None
    assert len(done["outputs"]) == 1 and done["has_nsfw_contents"] == [False]
    assert done["executionTime"] > 0 and done["timings"]["inference"] == done["executionTime"]
    assert done["engine"] == "preview"
    video = download(done["outputs"][0], tmp_path / "out.mp4")
    info = ffprobe(video)
    stream = video_stream(info)
    assert (stream["width"], stream["height"]) == (864, 480)
    assert int(stream["nb_read_frames"]) == 24 * 3 + 1
    assert stream["r_frame_rate"] == "24/1"
    assert stream["codec_name"] == "h264" and stream["pix_fmt"] == "yuv420p"
    assert [s for s in info["streams"] if s["codec_type"] == "audio"] == []
    assert probe(video).moov_before_mdat


def test_ark_create_get_and_usage(service: LiveService, tmp_path: Path) -> None:
    with service.client(service.new_key()) as client:
        response = client.post(ARK, json={
            "model": LITE, "content": [{"type": "text", "text": "city at night --rt 1:1"}],
            "resolution": "480p", "frames": 29, "seed": 7, "return_last_frame": True,
            "callback_url": None, "service_tier": None, "camerafixed": True,
        })  # fmt: skip
        assert response.status_code == 200
        assert list(response.json()) == ["id"]
        task_id = response.json()["id"]
        task = service.wait(client, task_id)
        # The same task read through the other dialect.
        gpt = client.get(f"/api/v3/predictions/{task_id}/result").json()["data"]
    assert task["status"] == "succeeded", task
    assert task["frames"] == 29 and "duration" not in task
    assert (task["ratio"], task["resolution"], task["seed"]) == ("1:1", "480p", 7)
    assert task["camera_fixed"] is True and task["framespersecond"] == 24
    assert task["usage"] == {"completion_tokens": 640 * 640 * 29 // 1024,
                             "total_tokens": 640 * 640 * 29 // 1024}  # fmt: skip
    assert isinstance(task["created_at"], int) and task["updated_at"] >= task["created_at"]
    assert gpt["status"] == "succeeded"
    assert gpt["outputs"] == [task["content"]["video_url"], task["content"]["last_frame_url"]]
    video = download(task["content"]["video_url"], tmp_path / "v.mp4")
    frame = download(task["content"]["last_frame_url"], tmp_path / "last.png")
    info = probe(video)
    assert (info.width, info.height, info.frame_count) == (640, 640, 29)
    last_png = decode_image(frame.read_bytes())
    assert last_png.shape == (640, 640, 3)
    last_decoded = decoded_frames(video)[-1].astype(float)
    assert np.abs(last_decoded - last_png.astype(float)).mean() < 6  # same frame, less x264 loss


def test_audio_track_when_the_model_has_audio(service: LiveService, tmp_path: Path) -> None:
    with service.client(service.new_key()) as client:
        with_audio = client.post(ARK, json={"model": V15, "content": [
            {"type": "text", "text": "waves on a beach"}], "resolution": "480p", "duration": 4,
        }).json()["id"]  # fmt: skip
        silent = client.post(ARK, json={"model": V15, "content": [
            {"type": "text", "text": "waves on a beach"}], "resolution": "480p", "duration": 4,
            "generate_audio": False}).json()["id"]  # fmt: skip
        done = service.wait(client, with_audio)
        quiet = service.wait(client, silent)
    assert done["generate_audio"] is True and quiet["generate_audio"] is False
    info = ffprobe(download(done["content"]["video_url"], tmp_path / "a.mp4"))
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert len(audio) == 1
    assert audio[0]["codec_name"] == "aac" and audio[0]["sample_rate"] == "48000"
    assert abs(float(audio[0]["duration"]) - 97 / 24) < 0.05
    stream = video_stream(info)
    assert (stream["width"], stream["height"], int(stream["nb_read_frames"])) == (864, 496, 97)
    silent_info = ffprobe(download(quiet["content"]["video_url"], tmp_path / "s.mp4"))
    assert all(s["codec_type"] == "video" for s in silent_info["streams"])


def test_image_to_video_starts_on_the_image_and_adapts_the_ratio(
    service: LiveService, tmp_path: Path
) -> None:
    image = png_data_uri(300, 540, seed=3)  # a portrait picture: 9:16 is its closest ratio
    path = f"/api/v3/doubao/{LITE_I2V}/image-to-video"
    with service.client(service.new_key()) as client:
        response = client.post(path, json={"image": image, "resolution": "480p", "duration": 2})
        assert response.status_code == 200, response.text
        task = service.wait(client, response.json()["data"]["id"])
    assert task["status"] == "succeeded", task
    assert task["ratio"] == "9:16"
    video = download(task["content"]["video_url"], tmp_path / "i2v.mp4")
    first = decoded_frames(video)[0].astype(float)
    expected = cover_resize(decode_image(_data(image)), 480, 864).astype(float)
    mse = float(np.mean((first - expected) ** 2))
    assert 10 * np.log10(255**2 / max(mse, 1e-9)) > 30


def _data(uri: str) -> bytes:
    import base64

    return base64.b64decode(uri.split(",", 1)[1])


def test_same_seed_same_video_other_prompt_other_video(
    service: LiveService, tmp_path: Path
) -> None:
    def render(prompt: str, seed: int, name: str) -> np.ndarray:
        with service.client(service.new_key()) as client:
            task_id = client.post(ARK, json={"model": LITE, "content": [
                {"type": "text", "text": prompt}], "resolution": "480p", "duration": 2,
                "seed": seed}).json()["id"]  # fmt: skip
            task = service.wait(client, task_id)
        return np.stack(decoded_frames(download(task["content"]["video_url"], tmp_path / name)))

    first = render("a forest in the morning", 11, "a.mp4")
    again = render("a forest in the morning", 11, "b.mp4")
    other = render("neon city at night", 11, "c.mp4")
    assert np.array_equal(first, again)
    assert np.abs(first.astype(float) - other.astype(float)).mean() > 10


def test_sync_mode_blocks_until_terminal(service: LiveService) -> None:
    with service.client(service.new_key()) as client:
        response = client.post(
            f"/api/v3/bytedance/{LITE}/text-to-video",
            json={"prompt": "sunrise", "resolution": "480p", "duration": 2,
                  "enable_sync_mode": True},
        )  # fmt: skip
    data = response.json()["data"]
    assert data["status"] == "succeeded" and len(data["outputs"]) == 1


def test_output_urls_are_signed(service: LiveService) -> None:
    with service.client(service.new_key()) as client:
        task_id = client.post(
            ARK,
            json={
                "model": LITE,
                "content": [{"type": "text", "text": "x"}],
                "resolution": "480p",
                "duration": 2,
            },
        ).json()["id"]
        url = service.wait(client, task_id)["content"]["video_url"]
    assert httpx.get(url).status_code == 200
    tampered = url.replace("sig=", "sig=0")
    assert httpx.get(tampered).status_code == 403
    later = url.replace("expires=", "expires=9")
    assert httpx.get(later).status_code == 403
    ranged = httpx.get(url, headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100


def test_delete_finished_task_removes_record_and_files(service: LiveService) -> None:
    with service.client(service.new_key()) as client:
        task_id = client.post(
            ARK,
            json={
                "model": LITE,
                "content": [{"type": "text", "text": "x"}],
                "resolution": "480p",
                "duration": 2,
            },
        ).json()["id"]
        url = service.wait(client, task_id)["content"]["video_url"]
        response = client.request("DELETE", f"{ARK}/{task_id}", json={})
        assert response.status_code == 200 and response.json() == {}
        assert client.get(f"{ARK}/{task_id}").status_code == 404
        assert client.request("DELETE", f"{ARK}/{task_id}").status_code == 404
    assert httpx.get(url).status_code == 410


def test_wavespeed_status_words(tmp_path: Path) -> None:
    from tests.support import start_service

    with start_service(tmp_path, workers=1, gptproto_status_words="wavespeed") as live:
        with live.client(live.new_key()) as client:
            data = client.post(f"/api/v3/bytedance/{LITE}/text-to-video",
                               json={"prompt": "x", "resolution": "480p", "duration": 2}
                               ).json()["data"]  # fmt: skip
            assert data["status"] in ("created", "processing", "completed")
            live.wait(client, data["id"])
            done = client.get(f"/api/v3/predictions/{data['id']}/result").json()["data"]
    assert done["status"] == "completed"
