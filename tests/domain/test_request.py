"""Validation of requests against the catalog (API.md §4): every rule, and its message."""

from __future__ import annotations

from typing import Any

import pytest

from kinema.domain.catalog import Catalog, Mode, closest_ratio
from kinema.domain.errors import InvalidParameter, MissingParameter, ModelNotFound
from kinema.domain.request import GenerationRequest, MediaInput, Submission, parse_request

CATALOG = Catalog()
LITE_T2V = "seedance-1-0-lite-t2v-250428"
LITE_I2V = "seedance-1-0-lite-i2v-250428"
PRO = "seedance-1-0-pro-250528"
PRO_FAST = "seedance-1-0-pro-fast-251015"
V15 = "seedance-1-5-pro-251215"
V20 = "seedance-2-0-260128"
V20_FAST = "seedance-2-0-fast-260128"

FIRST = MediaInput("image", "first_frame", "https://example.com/a.png", "image")
LAST = MediaInput("image", "last_frame", "https://example.com/b.png", "last_image")
REF = MediaInput("image", "reference_image", "https://example.com/r.png", "images[0]")


def parse(model: str = LITE_T2V, prompt: str | None = "a cat", media: tuple[MediaInput, ...] = (),
          mode: Mode | None = None, **fields: Any) -> GenerationRequest:  # fmt: skip
    return parse_request(CATALOG, Submission(model, prompt, fields, media, mode))


def rejects(param: str, *fragments: str, **kwargs: Any) -> InvalidParameter:
    with pytest.raises(InvalidParameter) as info:
        parse(**kwargs)
    assert info.value.param == param
    for fragment in fragments:
        assert fragment in info.value.message
    return info.value


def test_defaults_for_lite_t2v() -> None:
    request = parse(seed=7)
    assert (request.resolution, request.ratio, request.duration) == ("720p", "16:9", 5)
    assert (request.width, request.height, request.frame_count) == (1248, 704, 121)
    assert request.seed == 7
    assert request.generate_audio is False  # 1.0 models ignore audio


def test_usage_tokens_match_the_contract_example() -> None:
    request = parse(resolution="480p", duration=5)
    assert request.usage_tokens == 49_005


def test_default_resolution_is_per_model() -> None:
    assert parse(PRO).resolution == "1080p"
    assert parse(V15).resolution == "720p"


@pytest.mark.parametrize(
    ("model", "resolution", "ratio", "size"),
    [
        (LITE_T2V, "480p", "16:9", (864, 480)),
        (LITE_T2V, "480p", "21:9", (960, 416)),
        (LITE_T2V, "720p", "3:4", (832, 1120)),
        (V15, "480p", "16:9", (864, 496)),
        (V15, "720p", "4:3", (1112, 834)),
        (V20, "720p", "21:9", (1470, 630)),
        (PRO, "1080p", "9:16", (1088, 1920)),
        (V15, "1080p", "21:9", (2176, 928)),
    ],
)
def test_sizes_follow_the_contract_table(
    model: str, resolution: str, ratio: str, size: tuple[int, int]
) -> None:
    request = parse(model, resolution=resolution, ratio=ratio)
    assert (request.width, request.height) == size


def test_random_seed_is_resolved_and_reported() -> None:
    seeds = {parse(seed=-1).seed for _ in range(5)}
    assert all(0 <= seed <= 2_147_483_647 for seed in seeds)
    assert len(seeds) > 1


def test_duration_accepts_numeric_strings() -> None:
    assert parse(duration="7").duration == 7
    assert parse(duration=6.0).duration == 6


def test_duration_out_of_range_names_field_and_range() -> None:
    error = rejects("duration", model=LITE_T2V, duration=13)
    assert error.message == f"duration must be an integer from 2 to 12 for {LITE_T2V}"


def test_auto_duration_only_where_allowed() -> None:
    assert parse(V15, duration=-1).duration == 5
    rejects("duration", "-1", model=V15, duration=3)
    rejects("duration", "2 to 12", model=LITE_T2V, duration=-1)
    rejects("duration", "4 to 15", model=V20, duration=16)


@pytest.mark.parametrize("value", [True, "five", 5.5, [5], {"s": 5}])
def test_duration_of_wrong_type(value: object) -> None:
    rejects("duration", model=LITE_T2V, duration=value)


@pytest.mark.parametrize("value", [-2, 2_147_483_648, "x", 1.5, False])
def test_seed_out_of_range_or_type(value: object) -> None:
    rejects("seed", "-1 to 2147483647", seed=value)


def test_unknown_ratio_and_resolution_list_allowed_values() -> None:
    rejects("ratio", "21:9, 16:9, 4:3, 1:1, 3:4, 9:16", ratio="2:1")
    rejects("resolution", "480p, 720p", model=V20_FAST, resolution="1080p")


def test_adaptive_only_where_the_model_allows() -> None:
    rejects("ratio", "16:9", model=LITE_T2V, ratio="adaptive")
    request = parse(PRO, media=(FIRST,), ratio="adaptive")
    assert request.adaptive
    rejects("ratio", model=PRO, ratio="adaptive")  # pro: adaptive for i2v only


def test_i2v_defaults_to_adaptive() -> None:
    assert parse(LITE_I2V, media=(FIRST,)).adaptive
    assert not parse(LITE_T2V).adaptive


def test_modes_the_model_lacks() -> None:
    error = rejects("content", "does not support image-to-video", model=LITE_T2V, media=(FIRST,))
    assert "text-to-video" in error.message
    rejects("content", "first and last frame", model=PRO_FAST, media=(FIRST, LAST))
    rejects("content", "text-to-video", model=LITE_I2V)
    rejects("mode", model=LITE_T2V, mode=Mode.REFERENCE, media=(REF,))


def test_reference_limits() -> None:
    refs = tuple(MediaInput("image", "reference_image", "https://x/r.png", f"images[{i}]")
                 for i in range(5))  # fmt: skip
    rejects("images", "at most 4", model=LITE_I2V, media=refs)
    assert parse(V20, media=refs).mode is Mode.REFERENCE
    rejects("resolution", model=LITE_I2V, media=refs[:1], resolution="1080p")
    rejects("camera_fixed", model=LITE_I2V, media=refs[:1], camera_fixed=True)
    video = MediaInput("video", "reference_video", "https://x/v.mp4", "videos[0]")
    rejects("videos", "none are accepted", model=LITE_I2V, media=(REF, video))


def test_missing_prompt_for_text_to_video() -> None:
    with pytest.raises(MissingParameter) as info:
        parse(prompt=None)
    assert info.value.param == "prompt"
    assert parse(LITE_I2V, prompt=None, media=(FIRST,)).prompt == ""


def test_prompt_length_limit() -> None:
    rejects("prompt", "10000", prompt="x" * 10_001)


def test_frames_on_1_0_models_only() -> None:
    request = parse(frames=29, duration=12)
    assert request.frames == 29 and request.frame_count == 29 and request.duration is None
    rejects("frames", "25 + 4n", frames=30)
    rejects("frames", frames=293)
    rejects("frames", "not supported", model=V15, frames=29)


def test_audio_defaults_on_for_models_with_audio() -> None:
    assert parse(V15).generate_audio is True
    assert parse(V15, generate_audio=False).generate_audio is False
    assert parse(LITE_T2V, generate_audio=True).generate_audio is False
    rejects("generate_audio", "boolean", generate_audio="yes")


def test_draft_only_on_1_5_and_only_480p() -> None:
    assert parse(V15, draft=True).resolution == "480p"
    rejects("resolution", "480p", model=V15, draft=True, resolution="720p")
    rejects("draft", "not supported", model=LITE_T2V, draft=True)


def test_camera_fixed_per_model() -> None:
    assert parse(camera_fixed=True).camera_fixed
    rejects("camera_fixed", model=V20, camera_fixed=True)
    assert parse(V20, camera_fixed=False).camera_fixed is False


def test_other_fields() -> None:
    rejects("priority", "0 to 9", priority=10)
    rejects("service_tier", "default, flex", service_tier="fast")
    rejects("execution_expires_after", "3600 to 259200", execution_expires_after=60)
    rejects("callback_url", "http", callback_url="ftp://x")
    rejects("framespersecond", "24", framespersecond=30)
    assert parse(framespersecond=24).fps == 24


def test_inline_commands_are_parsed_and_stripped() -> None:
    request = parse(prompt="a fox runs --rs 480p --rt 1:1 --dur 3 --seed 9 --cf true --wm false")
    assert request.prompt == "a fox runs"
    assert (request.resolution, request.ratio, request.duration, request.seed) == (
        "480p", "1:1", 3, 9,
    )  # fmt: skip
    assert request.camera_fixed is True and request.watermark is False


def test_body_wins_over_inline() -> None:
    assert parse(prompt="a fox --dur 3", duration=4).duration == 4


def test_invalid_inline_value_is_an_error_naming_the_command() -> None:
    error = rejects("duration", "--dur", prompt="a fox --dur 99")
    assert "in the prompt" in error.message
    rejects("camera_fixed", prompt="a fox --cf maybe")


def test_unknown_model() -> None:
    with pytest.raises(ModelNotFound):
        parse("seedance-9")


def test_aliases_resolve_to_canonical_ids() -> None:
    assert parse(f"doubao-{LITE_T2V}").model == LITE_T2V
    assert parse(f"dreamina-{LITE_T2V}").model == LITE_T2V


def test_mixing_frames_and_references_is_rejected() -> None:
    rejects("content", "mixed", model=V20, media=(FIRST, REF))
    rejects("content", "first_frame", model=PRO, media=(LAST,))


def test_round_trip_through_json() -> None:
    request = parse(PRO, media=(FIRST, LAST), seed=3)
    assert GenerationRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize(
    ("size", "ratio"), [((1920, 1080), "16:9"), ((1000, 1000), "1:1"), ((600, 800), "3:4"),
                        ((2560, 1080), "21:9"), ((1080, 1920), "9:16")],
)  # fmt: skip
def test_closest_ratio(size: tuple[int, int], ratio: str) -> None:
    assert closest_ratio(*size) == ratio
