"""Camera language: from the prompt's words to one virtual camera move over the whole clip.

The vocabulary is what video prompts use: a move verb with a direction ("pan left", "tilt up",
"zoom out", "dolly in", "pull back", "orbit", "crane up"), a speed next to it ("slow pan",
"pans quickly"), bracketed directives (``[Slow pan]``, ``[Zoom in]``) — brackets are just
punctuation here — and words that lock the camera ("static shot", "fixed camera", "tripod").
A move verb without a direction goes the way the seed picks; a prompt naming no move gets a
gentle drift chosen by the seed. ``camera_fixed: true`` wins over everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

PAN_SPEED = 0.035
"""View widths per second of a normal-speed pan, capped at ``MAX_PAN`` over the clip."""
MAX_PAN = 0.26
ZOOM_SPEED = 0.03
"""Magnification change per second of a normal-speed zoom, capped at ``MAX_ZOOM``."""
MAX_ZOOM = 0.15
SLOW, FAST = 0.5, 2.0
"""Speed factors of "slow" and "fast" moves."""


@dataclass(frozen=True)
class Camera:
    """A camera move over the whole clip; the identity move means a locked-off camera."""

    pan: tuple[float, float] = (0.0, 0.0)
    """Total travel (x right, y down) in view widths and heights, centred on the world."""
    zoom: tuple[float, float] = (1.0, 1.0)
    """Magnification at the first and last frame (1 = widest)."""

    @property
    def fixed(self) -> bool:
        return self.pan == (0.0, 0.0) and self.zoom[0] == self.zoom[1] == 1.0


_LATERAL, _VERTICAL, _DEPTH = "lr", "ud", "io"
"""Axes a direction word moves along: left/right, up/down, in/out."""
# verb: (x, y, zoom) when no direction follows it (None: the seed picks a side), and the axes
# of the directions it takes ("tilt left" means nothing; "dolly left" is a truck).
_VERBS: dict[str, tuple[tuple[float | None, float | None, float], str]] = {
    "pan": ((None, 0, 0), _LATERAL + _VERTICAL), "truck": ((None, 0, 0), _LATERAL),
    "track": ((None, 0, 0), _LATERAL), "tracking": ((None, 0, 0), _LATERAL),
    "sweep": ((None, 0, 0), _LATERAL), "orbit": ((None, 0, 0.4), _LATERAL),
    "tilt": ((0, None, 0), _VERTICAL), "crane": ((0, -1, 0), _VERTICAL),
    "boom": ((0, -1, 0), _VERTICAL), "pedestal": ((0, -1, 0), _VERTICAL),
    "zoom": ((0, 0, 1), _DEPTH), "dolly": ((0, 0, 1), _DEPTH + _LATERAL),
    "aerial": ((None, 0, 0.5), _LATERAL), "drone": ((None, 0, 0.5), _LATERAL),
    "flyover": ((None, 0, 0.5), _LATERAL),
    "camera": ((0, 0, 0), _LATERAL + _VERTICAL + _DEPTH),
}  # fmt: skip
_DIRECTIONS: dict[str, tuple[str, tuple[float, float, float]]] = {
    **{w: ("lr", (-1, 0, 0)) for w in ("left", "leftward", "leftwards", "counterclockwise",
                                        "anticlockwise")},
    **{w: ("lr", (1, 0, 0)) for w in ("right", "rightward", "rightwards", "clockwise")},
    **{w: ("ud", (0, -1, 0)) for w in ("up", "upward", "upwards", "skyward", "skywards")},
    **{w: ("ud", (0, 1, 0)) for w in ("down", "downward", "downwards")},
    **{w: ("io", (0, 0, 1)) for w in ("in", "into", "forward", "forwards", "closer", "inward")},
    **{w: ("io", (0, 0, -1)) for w in ("out", "back", "backward", "backwards", "away",
                                        "outward")},
}  # fmt: skip
_PHRASES: dict[str, tuple[float, float, float]] = {
    r"close ?up": (0, 0, 1), r"push(es|ing)? in": (0, 0, 1),
    r"pull(s|ing)? (back|out|away)": (0, 0, -1), r"wide shot": (0, 0, -1),
    r"establishing shot": (0, 0, -1), r"reveal(s|ing)?": (0, 0, -1),
}  # fmt: skip
_STATIC = re.compile(
    r"\b(static|locked|tripod|stationary|motionless camera|still camera|fixed camera|"
    r"fixed shot|fixed angle|camera (is )?fixed|no camera (movement|motion))\b"
)
_SPEEDS: dict[str, float] = {
    "slow": SLOW, "slowly": SLOW, "gentle": SLOW, "gently": SLOW, "subtle": SLOW,
    "subtly": SLOW, "gradual": SLOW, "gradually": SLOW, "leisurely": SLOW, "steady": SLOW,
    "fast": FAST, "quick": FAST, "quickly": FAST, "rapid": FAST, "rapidly": FAST,
    "swift": FAST, "swiftly": FAST, "whip": FAST, "dramatic": FAST, "dynamic": FAST,
}  # fmt: skip
_SPEED_REACH = 2
"""A speed word counts when it is at most this many words from a camera word."""


def camera_from_prompt(
    words: list[str], seconds: float, rng: np.random.Generator, fixed: bool
) -> Camera:
    """The camera move the prompt's ``words`` (lower case) ask for, over ``seconds``."""
    if fixed:
        return Camera()
    text = " ".join(words)
    if _STATIC.search(text):
        return Camera()
    side = float(rng.choice([-1.0, 1.0]))  # drawn first, so it does not depend on the words
    moves, speed = _named_moves(words, text, side)
    if not moves:
        # Unnamed: a slow sideways drift with a slight tilt and zoom, the seed picking which way.
        moves = [(side, float(rng.uniform(-0.3, 0.3)), float(rng.choice([-0.5, 0.5])))]
    x, y, z = (float(np.clip(sum(m[i] for m in moves), -1, 1)) for i in range(3))
    pan_amount = min(MAX_PAN * speed, PAN_SPEED * speed * seconds)
    zoom_amount = min(MAX_ZOOM * speed, ZOOM_SPEED * speed * seconds)
    zoom = (1.0, 1.0 + zoom_amount * z) if z >= 0 else (1.0 - zoom_amount * z, 1.0)
    # A tilt alone travels further than the slight vertical drift that goes with a pan.
    tilt = y * pan_amount * (0.5 if x else 0.8)
    return Camera(pan=(x * pan_amount, tilt), zoom=zoom)


def _named_moves(
    words: list[str], text: str, side: float
) -> tuple[list[tuple[float, float, float]], float]:
    """The moves named in the prompt and their speed factor (1 when none is given)."""
    moves = [vector for phrase, vector in _PHRASES.items() if re.search(rf"\b{phrase}\b", text)]
    camera_at: list[int] = []
    for index, word in enumerate(words):
        verb = _verb(word)
        if verb is None:
            continue
        camera_at.append(index)
        default, axes = _VERBS[verb]
        following = [_DIRECTIONS[w] for w in words[index + 1 : index + 3] if w in _DIRECTIONS]
        directions = [vector for axis, vector in following if axis in axes]
        if directions:
            moves.append(directions[0])
        elif verb != "camera":
            x, y, z = default
            moves.append((side if x is None else x, side if y is None else y, z))
    speeds = [
        _SPEEDS[words[j]]
        for i in camera_at
        for j in range(max(0, i - _SPEED_REACH), min(len(words), i + _SPEED_REACH + 1))
        if words[j] in _SPEEDS
    ]
    return moves, speeds[0] if speeds else 1.0


def _verb(word: str) -> str | None:
    """The camera verb ``word`` is a form of ("pans", "panning", "dollies" → base), if any."""
    if word in _VERBS:
        return word
    for suffix, restore in (("ning", ""), ("ing", ""), ("ing", "e"), ("ies", "y"), ("ed", ""),
                            ("es", ""), ("s", "")):  # fmt: skip
        if word.endswith(suffix) and word[: -len(suffix)] + restore in _VERBS:
            return word[: -len(suffix)] + restore
    return None
