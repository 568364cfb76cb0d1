"""Property tests of the parsers that read what clients send: inline ``--params``, the dialects'
bodies and content items, and data URIs. Whatever comes in, the answer is a value or the one
error type the API renders as a 400, never another exception."""

from __future__ import annotations

import base64
import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinema.api.submission import ark_submission, gptproto_submission
from kinema.domain.catalog import Catalog
from kinema.domain.errors import InvalidParameter, KinemaError
from kinema.domain.inline import INLINE_NAMES, split_inline_commands
from kinema.domain.request import Submission, parse_request
from kinema.safety.fetch import FetchError, decode_data_uri

CATALOG = Catalog()
MODELS = [model.id for model in CATALOG.models]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12,
)  # fmt: skip
field_names = st.sampled_from(
    ["prompt", "duration", "resolution", "ratio", "aspect_ratio", "seed", "frames", "image",
     "last_image", "images", "videos", "audios", "camera_fixed", "camerafixed", "watermark",
     "generate_audio", "draft", "return_last_frame", "service_tier", "priority",
     "execution_expires_after", "callback_url", "framespersecond", "safety_identifier"]
)  # fmt: skip
bodies = st.dictionaries(field_names | st.text(max_size=8), json_values, max_size=8)

inline_words = st.sampled_from([f"--{name}" for name in INLINE_NAMES] + ["--RS", "--unknown"])
inline_values = st.sampled_from(["720p", "16:9", "5", "-1", "true", "x", "1e3", "\u00b9", "+-5"])
prompts = st.lists(st.text(max_size=12) | inline_words | inline_values, max_size=12).map(" ".join)


def _parse(submission: Submission) -> None:
    try:
        parse_request(CATALOG, submission)
    except KinemaError as error:
        assert error.status in (400, 404), error


@given(prompts)
def test_inline_commands_strip_what_they_read(text: str) -> None:
    prompt, commands = split_inline_commands(text)
    assert set(commands) <= set(INLINE_NAMES.values())
    # Every recognised command is gone from the prompt; the rest of the words keep their order.
    for command in commands.values():
        assert f"{command.written} {command.value}" not in prompt
    again, repeated = split_inline_commands(prompt)
    assert again == prompt and not repeated


@given(st.sampled_from(MODELS), prompts, bodies)
@settings(max_examples=200)
def test_inline_commands_and_fields_never_crash(
    model: str, text: str, body: dict[str, Any]
) -> None:
    fields = {k: v for k, v in body.items() if v is not None}
    _parse(Submission(model=model, prompt=text, fields=fields))


@given(st.sampled_from(MODELS), st.sampled_from(["text-to-video", "image-to-video",
                                                  "reference-to-video"]), bodies)  # fmt: skip
@settings(max_examples=200)
def test_gptproto_bodies_are_values_or_400(model: str, mode: str, body: dict[str, Any]) -> None:
    try:
        submission = gptproto_submission(body, model, mode)
    except InvalidParameter:
        return
    _parse(submission)


content_items = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "video_url", "audio_url", "x"]) | json_values},
    optional={
        "text": json_values,
        "image_url": json_values | st.fixed_dictionaries({"url": json_values}),
        "video_url": json_values,
        "audio_url": json_values,
        "role": st.sampled_from(["first_frame", "last_frame", "reference_image",
                                 "reference_video", "reference_audio"]) | json_values,
    },
) | json_values  # fmt: skip


@given(st.sampled_from(MODELS) | json_values, st.lists(content_items, max_size=25) | json_values,
       bodies)  # fmt: skip
@settings(max_examples=300)
def test_ark_content_items_are_values_or_400(
    model: Any, content: Any, body: dict[str, Any]
) -> None:
    try:
        submission = ark_submission({**body, "model": model, "content": content})
    except InvalidParameter:
        return
    _parse(submission)


@given(st.binary(max_size=300), st.sampled_from(["image/png", "image/jpeg", "", "x/y;a=b"]))
def test_data_uris_round_trip(data: bytes, kind: str) -> None:
    uri = f"data:{kind};base64,{base64.b64encode(data).decode()}"
    decoded = decode_data_uri(uri, max_bytes=1024)
    assert decoded.data == data
    assert decoded.content_type == ((kind.split(";")[0] or None) if kind else None)


@given(st.binary(min_size=11, max_size=60))
def test_data_uris_over_the_limit_are_refused(data: bytes) -> None:
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    try:
        decode_data_uri(uri, max_bytes=10)
    except FetchError as error:
        assert "larger than 10 bytes" in str(error)
    else:
        raise AssertionError("a data URI over the limit was accepted")


@given(st.text(max_size=80) | st.text(max_size=40).map(lambda t: "data:image/png;base64," + t))
def test_any_text_is_a_data_uri_or_a_fetch_error(text: str) -> None:
    with contextlib.suppress(FetchError):
        decode_data_uri(text, max_bytes=1024)


@pytest.mark.parametrize(
    ("text", "prompt", "taken"),
    [
        # Found by the property above: an unknown command swallowed the next one as its value.
        ("--unknown --resolution --resolution 0 0", "--unknown 0", {"resolution": "0"}),
        ("a cat --resolution", "a cat", {}),  # a known command without a value goes too
        ("a cat --unknown 5 --rs=480p", "a cat --unknown 5", {"resolution": "480p"}),
    ],
)
def test_a_command_value_is_never_another_command(
    text: str, prompt: str, taken: dict[str, str]
) -> None:
    stripped, commands = split_inline_commands(text)
    assert stripped == prompt
    assert {field: value.value for field, value in commands.items()} == taken
