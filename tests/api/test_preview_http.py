"""The preview engine through HTTP: what a client sees in the decoded MP4 follows the request."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import av
import cv2
import httpx
import numpy as np
from PIL import Image

from kinema.media.image import cover_resize, decode_image
from tests.support import LiveService, png_data_uri

LITE = "seedance-1-0-lite-t2v-250428"
LITE_I2V = "seedance-1-0-lite-i2v-250428"
V15 = "seedance-1-5-pro-251215"
V20 = "seedance-2-0-260128"
ARK = "/api/v3/contents/generations/tasks"


def generate(service: LiveService, path: str, body: dict[str, Any], target: Path) -> Path:
    """Submit through the GPTProto route, wait, and download the video."""
    with service.client(service.new_key()) as client:
        response = client.post(path, json=body)
        assert response.status_code == 200, response.text
        task = service.wait(client, response.json()["data"]["id"])
    assert task["status"] == "succeeded", task
    video = httpx.get(task["content"]["video_url"], timeout=30)
    assert video.status_code == 200
    target.write_bytes(video.content)
    return target


def t2v(service: LiveService, tmp_path: Path, name: str, **body: Any) -> np.ndarray[Any, Any]:
    body = {"resolution": "480p", "duration": 2, "seed": 3, **body}
    path = generate(service, f"/api/v3/bytedance/{LITE}/text-to-video", body, tmp_path / name)
    return frames_of(path)


def frames_of(path: Path) -> np.ndarray[Any, Any]:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def global_motion(frames: np.ndarray[Any, Any], step: int = 4) -> np.ndarray[Any, Any]:
    """(dx, dy) per frame of the top 384 rows (a size the DFT takes as is), phase-correlated."""
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32)[:384] for f in frames]
    window = cv2.createHanningWindow((grey[0].shape[1], grey[0].shape[0]), cv2.CV_32F)
    shifts = [cv2.phaseCorrelate(grey[i], grey[i + step], window)[0]
              for i in range(0, len(grey) - step, step)]  # fmt: skip
    return np.array(shifts) / step


def psnr(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / max(mse, 1e-9))


def test_camera_follows_the_prompt_and_camera_fixed(service: LiveService, tmp_path: Path) -> None:
    prompt = "a city at night, pan left"
    moving = t2v(service, tmp_path, "moving.mp4", prompt=prompt)
    fixed = t2v(service, tmp_path, "fixed.mp4", prompt=prompt, camera_fixed=True)
    dx, dy = global_motion(moving).mean(axis=0)
    assert dx > 0.5 and abs(dy) < 0.2  # panning left slides the picture right
    assert np.abs(global_motion(fixed)).max() < 0.1  # only scene elements move
    assert np.abs(fixed[-1].astype(np.int16) - fixed[0].astype(np.int16)).max() > 30


def test_prompt_and_seed_on_decoded_frames(service: LiveService, tmp_path: Path) -> None:
    forest = t2v(service, tmp_path, "a.mp4", prompt="a forest at dawn", seed=1)
    again = t2v(service, tmp_path, "b.mp4", prompt="a forest at dawn", seed=1)
    reseeded = t2v(service, tmp_path, "c.mp4", prompt="a forest at dawn", seed=2)
    other = t2v(service, tmp_path, "d.mp4", prompt="a city street at night", seed=1)

    def difference(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
        return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())

    assert np.array_equal(forest, again)
    assert 3 < difference(forest, reseeded) < difference(forest, other) / 2


def test_image_to_video_starts_and_ends_on_the_images(service: LiveService, tmp_path: Path) -> None:
    first, last = png_data_uri(640, 400, seed=1), png_data_uri(700, 380, seed=2)
    body = {"image": first, "last_image": last, "prompt": "rain, slow zoom in",
            "resolution": "480p", "duration": 2, "aspect_ratio": "16:9"}  # fmt: skip
    path = generate(service, f"/api/v3/doubao/{LITE_I2V}/image-to-video", body, tmp_path / "i.mp4")
    frames = frames_of(path)
    assert frames.shape == (49, 480, 864, 3)
    expected = [cover_resize(decode_image(_data(uri)), 864, 480) for uri in (first, last)]
    assert psnr(frames[0], expected[0]) > 30
    assert psnr(frames[-1], expected[1]) > 30
    assert psnr(frames[24], expected[0]) < 25 and psnr(frames[24], expected[1]) < 25


def test_reference_images_appear_in_the_video(service: LiveService, tmp_path: Path) -> None:
    card = np.zeros((120, 200, 3), dtype=np.uint8)
    card[:, :100] = (255, 0, 255)
    card[:, 100:] = (0, 255, 255)
    buffer = io.BytesIO()
    Image.fromarray(card).save(buffer, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    body = {"images": [uri], "prompt": "a forest", "resolution": "480p", "duration": 4,
            "aspect_ratio": "16:9", "generate_audio": False}  # fmt: skip
    path = generate(service, f"/api/v3/bytedance/{V20}/reference-to-video", body,
                    tmp_path / "r.mp4")  # fmt: skip
    frame = frames_of(path)[48].astype(np.int16)
    pink = (frame[..., 0] > 180) & (frame[..., 1] < 80) & (frame[..., 2] > 180)
    cyan = (frame[..., 0] < 80) & (frame[..., 1] > 180) & (frame[..., 2] > 180)
    assert pink.sum() > 1000 and cyan.sum() > 1000
    assert np.argwhere(pink)[:, 1].mean() < np.argwhere(cyan)[:, 1].mean()


def test_generated_sound_is_audible_and_as_long_as_the_video(
    service: LiveService, tmp_path: Path
) -> None:
    body = {"model": V15, "content": [{"type": "text", "text": "heavy rain on a city street"}],
            "resolution": "480p", "duration": 4}  # fmt: skip
    with service.client(service.new_key()) as client:
        task = service.wait(client, client.post(ARK, json=body).json()["id"])
    assert task["status"] == "succeeded" and task["generate_audio"] is True
    path = tmp_path / "sound.mp4"
    path.write_bytes(httpx.get(task["content"]["video_url"], timeout=30).content)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.codec_context.sample_rate) == ("aac", 48_000)
        pcm = np.concatenate([f.to_ndarray().reshape(2, -1) for f in container.decode(audio=0)],
                             axis=1)  # fmt: skip
    assert abs(pcm.shape[1] - 97 / 24 * 48_000) <= 1024  # one AAC frame at most
    assert float(np.sqrt(np.mean(pcm**2))) > 0.05  # not silence
    assert float(np.abs(pcm).max()) < 1.0  # never clipping


def test_watermark_only_when_asked(service: LiveService, tmp_path: Path) -> None:
    plain = t2v(service, tmp_path, "p.mp4", prompt="melancholy")
    marked = t2v(service, tmp_path, "m.mp4", prompt="melancholy", watermark=True)
    changed = np.abs(plain.astype(np.int16) - marked.astype(np.int16)).max(axis=(0, 3)) > 40
    rows, cols = np.nonzero(changed)
    assert rows.size > 100
    assert rows.min() > 480 * 0.8 and cols.min() > 864 * 0.6  # the bottom-right corner


def _data(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1])
