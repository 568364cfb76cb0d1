"""Inline commands in prompt text (``--resolution 720p --dur 5 ...``), as Seedance accepts them.

They are parsed out of the text and stripped from the prompt. A body field wins over an inline
command (API.md §3, Decision); an invalid inline value is reported like a body field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Inline name → canonical field name.
INLINE_NAMES: dict[str, str] = {
    "resolution": "resolution",
    "rs": "resolution",
    "ratio": "ratio",
    "rt": "ratio",
    "duration": "duration",
    "dur": "duration",
    "frames": "frames",
    "framespersecond": "framespersecond",
    "fps": "framespersecond",
    "seed": "seed",
    "camerafixed": "camera_fixed",
    "cf": "camera_fixed",
    "watermark": "watermark",
    "wm": "watermark",
}

_COMMAND = re.compile(r"(?<!\S)--([A-Za-z]+)(?:(?:\s+|=)(?!--[A-Za-z])([^\s]+))?")
"""``--name value`` or ``--name=value``; a value is never another ``--name`` (so an unknown
command does not swallow the next one), and a name may come without one."""


@dataclass(frozen=True)
class InlineValue:
    """One inline command: its canonical field, its raw text value and how it was written."""

    field: str
    value: str
    written: str
    """The command as the user wrote its name, e.g. ``--dur``, for error messages."""


def split_inline_commands(text: str) -> tuple[str, dict[str, InlineValue]]:
    """Return the prompt without recognised commands, and the commands by canonical field.

    Unrecognised ``--words`` stay in the prompt: they may be part of it. When a command repeats,
    the last one wins, as on the command line.
    """
    commands: dict[str, InlineValue] = {}

    def take(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        field = INLINE_NAMES.get(name)
        if field is None:
            return match.group(0)
        if match.group(2) is not None:
            commands[field] = InlineValue(field, match.group(2), f"--{match.group(1)}")
        # A known command without a value ("--resolution --ratio 16:9") is a command, not prose:
        # it goes too, or what is left could read as a command the parser did not take.
        return ""

    stripped = _COMMAND.sub(take, text)
    if commands:
        # Only tidy the spaces the removed commands left behind; a prompt without commands is
        # passed on as written.
        stripped = re.sub(r"[ \t]{2,}", " ", stripped)
    return stripped.strip(), commands
