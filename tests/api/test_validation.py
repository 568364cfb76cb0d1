"""Every invalid input answers 400 (or 404 for an unknown model) in the dialect's shape — never
FastAPI's 422, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import LiveService

LITE = "seedance-1-0-lite-t2v-250428"
T2V = f"/api/v3/bytedance/{LITE}/text-to-video"
ARK = "/api/v3/contents/generations/tasks"


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        ({"prompt": "x", "duration": 13}, "duration", "from 2 to 12"),
        ({"prompt": "x", "duration": "abc"}, "duration", "integer"),
        ({"prompt": "x", "seed": 2**31}, "seed", "2147483647"),
        ({"prompt": "x", "aspect_ratio": "5:4"}, "aspect_ratio", "16:9"),
        ({"prompt": "x", "resolution": "4k"}, "resolution", "480p, 720p, 1080p"),
        ({"prompt": "x", "camera_fixed": "yes"}, "camera_fixed", "boolean"),
        ({}, "prompt", "required"),
        ({"prompt": 5}, "prompt", "string"),
        ({"prompt": "x --dur 40"}, "duration", "--dur"),
    ],
)
def test_gptproto_invalid_values(
    idle_service: LiveService, body: dict[str, Any], param: str, fragment: str
) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        response = client.post(T2V, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "400"
    assert error["param"] == param
    assert fragment in error["message"]
    assert LITE in error["message"] or param in ("prompt", "camera_fixed")


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        ({"model": LITE, "content": [{"type": "text", "text": "x"}], "duration": 1},
         400, "InvalidParameter", "duration"),
        ({"model": LITE, "content": [{"type": "text", "text": "x"}], "ratio": "adaptive"},
         400, "InvalidParameter", "ratio"),
        ({"model": LITE, "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]},
         400, "InvalidParameter", "content"),
        ({"content": [{"type": "text", "text": "x"}]}, 400, "MissingParameter", "model"),
        ({"model": LITE}, 400, "MissingParameter", "content"),
        ({"model": LITE, "content": [{"type": "sound"}]}, 400, "InvalidParameter",
         "content[0].type"),
        ({"model": LITE, "content": "x"}, 400, "InvalidParameter", "content"),
        ({"model": "seedance-2-0-260128", "content": [{"type": "text", "text": "x"}],
          "frames": 29}, 400, "InvalidParameter", "frames"),
        ({"model": "seedance-1-5-pro-251215", "content": [{"type": "text", "text": "x"}],
          "draft": True, "resolution": "720p"}, 400, "InvalidParameter", "resolution"),
        ({"model": LITE, "content": [{"type": "text", "text": "x"}], "priority": 12},
         400, "InvalidParameter", "priority"),
    ],
)  # fmt: skip
def test_ark_invalid_values(
    idle_service: LiveService, body: dict[str, Any], status: int, code: str, param: str
) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        response = client.post(ARK, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["param"] == param
    assert error["type"] == "BadRequest"


def test_unknown_model_is_404_in_both_dialects(idle_service: LiveService) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        ark = client.post(ARK, json={"model": "seedance-9", "content": [
            {"type": "text", "text": "x"}]})  # fmt: skip
        gpt = client.post("/api/v3/bytedance/seedance-9/text-to-video", json={"prompt": "x"})
    assert ark.status_code == gpt.status_code == 404
    assert ark.json()["error"]["code"] == "InvalidEndpointOrModel.NotFound"
    assert gpt.json()["error"]["code"] == "model_not_found"


def test_unknown_vendor_or_mode_is_404(idle_service: LiveService) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        assert client.post(f"/api/v3/openai/{LITE}/text-to-video", json={}).status_code == 404
        assert client.post(f"/api/v3/bytedance/{LITE}/video-to-video", json={}).status_code == 404


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"'])
def test_malformed_json_is_400(idle_service: LiveService, raw: bytes) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        for path in (T2V, ARK):
            response = client.post(path, content=raw, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, response.text
            assert "error" in response.json()


def test_mode_the_model_lacks(idle_service: LiveService) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        response = client.post(f"/api/v3/doubao/{LITE}/image-to-video",
                               json={"image": "https://example.com/a.png"})  # fmt: skip
    assert response.status_code == 400
    assert "does not support image-to-video" in response.json()["error"]["message"]


def test_image_to_video_needs_an_image(idle_service: LiveService) -> None:
    path = "/api/v3/bytedance/seedance-1-0-lite-i2v-250428/image-to-video"
    with idle_service.client(idle_service.new_key()) as client:
        response = client.post(path, json={"prompt": "x", "image": None, "last_image": ""})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "image"


def test_bad_images_are_400(idle_service: LiveService) -> None:
    path = "/api/v3/bytedance/seedance-1-0-lite-i2v-250428/image-to-video"
    with idle_service.client(idle_service.new_key()) as client:
        not_image = client.post(path, json={"image": "data:image/png;base64,aGVsbG8="})
        bad_scheme = client.post(path, json={"image": "ftp://example.com/a.png"})
        not_base64 = client.post(path, json={"image": "data:image/png;base64,@@@"})
    for response in (not_image, bad_scheme, not_base64):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == "image"


def test_list_parameters_are_checked(idle_service: LiveService) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        for query in ("page_num=0", "page_size=501", "page_size=x", "filter.status=done",
                      "filter.service_tier=cheap"):  # fmt: skip
            response = client.get(f"{ARK}?{query}")
            assert response.status_code == 400, query
            assert response.json()["error"]["code"] == "InvalidParameter"


def test_unknown_route_and_method_never_422(idle_service: LiveService) -> None:
    with idle_service.client(idle_service.new_key()) as client:
        assert client.get("/api/v3/nothing/here").status_code == 404
        assert client.put(f"{ARK}/x").status_code == 405
