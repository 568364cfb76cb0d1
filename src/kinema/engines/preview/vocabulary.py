"""Reading a prompt: the small keyword vocabulary the preview engine understands.

A prompt is read along independent axes: the setting (where we are), the time of day, the
weather, the subjects that move through the scene, and the colours named. Each axis is a word
table, not language understanding: "a red kite over the sea at sunset in the rain" is the sea
setting, at sunset, raining, with a kite, tinted red. Chinese keywords are matched as
substrings. Camera language is read by :mod:`kinema.engines.preview.camera`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

RGB = tuple[float, float, float]
"""A colour with channels in [0, 1]."""

K = TypeVar("K")


class Setting(StrEnum):
    """The kinds of scene the preview engine can paint."""

    SKY = "sky"
    """Open sky over a landscape (hills, fields, mountains)."""
    SEA = "sea"
    CITY = "city"
    SPACE = "space"
    FOREST = "forest"
    FIRE = "fire"
    ROOM = "room"
    """An interior: a wall with a window, a floor, a lamp."""
    ABSTRACT = "abstract"
    """The fallback: colour fields and drifting lights derived from the prompt itself."""


class TimeOfDay(StrEnum):
    DEFAULT = "default"
    """Not named: the setting's own (a city is at night, a forest by day)."""
    DAWN = "dawn"
    DAY = "day"
    SUNSET = "sunset"
    NIGHT = "night"


class Weather(StrEnum):
    CLEAR = "clear"
    RAIN = "rain"
    STORM = "storm"
    """Rain, a darker sky and lightning."""
    SNOW = "snow"
    FOG = "fog"


class Subject(StrEnum):
    """Things named in the prompt that move through the scene as simple shapes."""

    BIRDS = "birds"
    FISH = "fish"
    BOAT = "boat"
    CARS = "cars"
    BALLOONS = "balloons"
    KITE = "kite"
    BUTTERFLIES = "butterflies"
    LANTERNS = "lanterns"
    LEAVES = "leaves"
    FIGURE = "figure"
    """A person or an animal: one upright shape walking along the ground."""


SETTING_WORDS: dict[Setting, tuple[str, ...]] = {
    Setting.SKY: (
        "sky", "cloud", "clouds", "cloudy", "sun", "sunny", "mountain", "hill", "field",
        "meadow", "desert", "valley", "wind", "landscape", "prairie", "plain", "canyon",
        "horizon", "countryside", "farm", "cliff", "sunshine",
    ),
    Setting.SEA: (
        "sea", "ocean", "beach", "wave", "water", "lake", "river", "boat", "ship", "shore",
        "surf", "underwater", "island", "coast", "sail", "harbor", "harbour", "fish", "pond",
        "waterfall", "reef", "sailboat", "yacht", "lighthouse", "pier", "dock", "bay", "tide",
    ),
    Setting.CITY: (
        "city", "street", "night", "building", "skyline", "downtown", "traffic", "car", "urban",
        "cyberpunk", "town", "road", "alley", "tower", "skyscraper", "metropolis", "highway",
        "bridge", "taxi", "bus", "village", "neon", "market", "rooftop", "subway",
    ),
    Setting.SPACE: (
        "space", "star", "galaxy", "planet", "moon", "nebula", "astronaut", "rocket", "cosmic",
        "universe", "orbit", "spaceship", "comet", "satellite", "cosmos", "asteroid",
    ),
    Setting.FOREST: (
        "forest", "tree", "wood", "woods", "jungle", "leaf", "leaves", "garden", "firefly",
        "fireflies", "nature", "moss", "grass", "flower", "pine", "oak", "bamboo", "park",
    ),
    Setting.FIRE: (
        "fire", "flame", "burning", "campfire", "lava", "volcano", "explosion", "ember",
        "torch", "smoke", "blaze", "bonfire", "fireplace", "inferno",
    ),
    Setting.ROOM: (
        "room", "indoor", "indoors", "interior", "kitchen", "bedroom", "office",
        "cafe", "library", "studio", "window", "desk", "table", "sofa", "couch", "bed",
        "house", "home", "apartment", "restaurant", "bar", "classroom", "museum", "lamp",
        "candle", "hallway", "cozy", "cosy",
    ),
}  # fmt: skip
SETTING_CJK: dict[Setting, tuple[str, ...]] = {
    Setting.SKY: ("天空", "云", "鸟", "山", "草原", "沙漠"),
    Setting.SEA: ("海", "浪", "湖", "船", "水", "河"),
    Setting.CITY: ("城市", "街", "楼", "夜景"),
    Setting.SPACE: ("太空", "星", "宇宙", "月"),
    Setting.FOREST: ("森林", "树", "花", "草"),
    Setting.FIRE: ("火", "焰", "烛"),
    Setting.ROOM: ("房间", "室内", "屋", "窗"),
}
TIME_WORDS: dict[TimeOfDay, tuple[str, ...]] = {
    TimeOfDay.DAWN: ("dawn", "sunrise", "daybreak", "morning", "first light"),
    TimeOfDay.DAY: ("day", "daytime", "noon", "midday", "afternoon", "sunny", "daylight",
                    "broad daylight"),
    TimeOfDay.SUNSET: ("sunset", "dusk", "evening", "twilight", "golden hour", "sundown"),
    TimeOfDay.NIGHT: ("night", "midnight", "nighttime", "moonlit", "moonlight", "dark",
                      "starry", "noir"),
}  # fmt: skip
TIME_CJK: dict[TimeOfDay, tuple[str, ...]] = {
    TimeOfDay.DAWN: ("清晨", "早晨", "日出", "黎明"),
    TimeOfDay.DAY: ("白天", "中午"),
    TimeOfDay.SUNSET: ("黄昏", "日落", "傍晚", "夕阳"),
    TimeOfDay.NIGHT: ("夜", "晚上", "月光"),
}
WEATHER_WORDS: dict[Weather, tuple[str, ...]] = {
    Weather.STORM: ("storm", "stormy", "thunder", "thunderstorm", "lightning", "tempest",
                    "hurricane"),
    Weather.RAIN: ("rain", "rainy", "raining", "rainfall", "drizzle", "downpour", "showers",
                   "wet"),
    Weather.SNOW: ("snow", "snowy", "snowing", "snowfall", "snowflake", "snowflakes",
                   "blizzard", "winter", "frost", "frosty"),
    Weather.FOG: ("fog", "foggy", "mist", "misty", "haze", "hazy"),
}  # fmt: skip
WEATHER_CJK: dict[Weather, tuple[str, ...]] = {
    Weather.STORM: ("雷", "暴风"),
    Weather.RAIN: ("雨",),
    Weather.SNOW: ("雪",),
    Weather.FOG: ("雾",),
}
SUBJECT_WORDS: dict[Subject, tuple[str, ...]] = {
    Subject.BIRDS: ("bird", "birds", "seagull", "seagulls", "gull", "gulls", "eagle", "crow",
                    "crows", "flock", "swallow", "swallows", "dove", "doves", "pigeon"),
    Subject.FISH: ("fish", "fishes", "koi", "whale", "dolphin", "dolphins", "shark"),
    Subject.BOAT: ("boat", "boats", "ship", "ships", "sailboat", "yacht", "canoe", "ferry"),
    Subject.CARS: ("car", "cars", "traffic", "taxi", "bus", "truck"),
    Subject.BALLOONS: ("balloon", "balloons", "bubble", "bubbles"),
    Subject.KITE: ("kite", "kites"),
    Subject.BUTTERFLIES: ("butterfly", "butterflies", "bee", "bees", "moth", "moths"),
    Subject.LANTERNS: ("lantern", "lanterns", "firefly", "fireflies", "sparkle", "sparkles"),
    Subject.LEAVES: ("leaf", "leaves", "petal", "petals", "blossom", "blossoms", "autumn",
                     "confetti"),
    Subject.FIGURE: ("person", "man", "woman", "girl", "boy", "child", "people", "dancer",
                     "walker", "traveler", "traveller", "cat", "dog", "horse", "deer", "fox",
                     "robot", "knight", "figure", "astronaut"),
}  # fmt: skip
SUBJECT_CJK: dict[Subject, tuple[str, ...]] = {
    Subject.BIRDS: ("鸟",),
    Subject.FISH: ("鱼",),
    Subject.BOAT: ("船",),
    Subject.CARS: ("车",),
    Subject.BALLOONS: ("气球",),
    Subject.KITE: ("风筝",),
    Subject.BUTTERFLIES: ("蝴蝶",),
    Subject.LANTERNS: ("灯笼", "萤火虫"),
    Subject.LEAVES: ("叶", "花瓣"),
    Subject.FIGURE: ("人", "女孩", "男孩", "猫", "狗", "马"),
}
_HOME: dict[Subject, Setting] = {
    Subject.BIRDS: Setting.SKY, Subject.KITE: Setting.SKY, Subject.BALLOONS: Setting.SKY,
    Subject.FISH: Setting.SEA, Subject.BOAT: Setting.SEA, Subject.CARS: Setting.CITY,
    Subject.BUTTERFLIES: Setting.FOREST, Subject.LEAVES: Setting.FOREST,
}  # fmt: skip
"""Where a subject lives when the prompt names no setting."""
COLOUR_WORDS: dict[str, RGB] = {
    "red": (0.9, 0.1, 0.1), "crimson": (0.75, 0.05, 0.15), "scarlet": (0.95, 0.15, 0.1),
    "orange": (1.0, 0.5, 0.1), "amber": (1.0, 0.65, 0.1), "golden": (1.0, 0.78, 0.25),
    "gold": (1.0, 0.78, 0.25), "yellow": (1.0, 0.9, 0.2), "green": (0.2, 0.8, 0.3),
    "emerald": (0.1, 0.7, 0.45), "teal": (0.1, 0.6, 0.6), "turquoise": (0.2, 0.85, 0.8),
    "cyan": (0.1, 0.85, 0.95), "blue": (0.15, 0.35, 0.95), "azure": (0.2, 0.55, 1.0),
    "indigo": (0.3, 0.2, 0.7), "purple": (0.55, 0.2, 0.8), "violet": (0.5, 0.25, 0.9),
    "lavender": (0.7, 0.6, 0.95), "magenta": (0.9, 0.15, 0.75), "pink": (1.0, 0.5, 0.7),
    "rose": (0.95, 0.4, 0.55), "white": (0.95, 0.95, 0.95), "silver": (0.78, 0.8, 0.85),
    "grey": (0.5, 0.5, 0.52), "gray": (0.5, 0.5, 0.52), "brown": (0.5, 0.32, 0.18),
    "copper": (0.8, 0.45, 0.25), "bronze": (0.7, 0.5, 0.25), "neon": (1.0, 0.1, 0.85),
}  # fmt: skip
COLOUR_CJK: dict[str, RGB] = {
    "红": COLOUR_WORDS["red"], "橙": COLOUR_WORDS["orange"], "金": COLOUR_WORDS["golden"],
    "黄": COLOUR_WORDS["yellow"], "绿": COLOUR_WORDS["green"], "蓝": COLOUR_WORDS["blue"],
    "紫": COLOUR_WORDS["purple"], "粉": COLOUR_WORDS["pink"], "白": COLOUR_WORDS["white"],
}  # fmt: skip


@dataclass(frozen=True)
class Reading:
    """What the vocabulary found in one prompt."""

    words: list[str]
    """The prompt's words in lower case (Latin letters only), in order."""
    setting: Setting
    time: TimeOfDay
    weather: Weather
    subjects: tuple[Subject, ...]
    """In order of first mention."""
    colours: tuple[RGB, ...]
    """The colours named for the scene, in order (a colour named twice weighs twice)."""
    subject_colour: RGB | None
    """A colour named just before a subject ("a red kite"): the subject's, not the scene's."""


def read_prompt(prompt: str) -> Reading:
    """Read ``prompt`` along every axis of the vocabulary."""
    text = prompt.lower()
    words = re.findall(r"[a-z]+", text)
    joined = " ".join(words)
    # A storm is rain and more; snow or rain beat a mist mentioned alongside.
    weather = _first(joined, text, WEATHER_WORDS, WEATHER_CJK, by_priority=True)
    setting = _pick_setting(words, text)
    subjects = [
        (position, subject)
        for subject in Subject
        if (position := _position(joined, text, SUBJECT_WORDS[subject], SUBJECT_CJK[subject]))
        is not None
    ]
    if setting is Setting.ABSTRACT:
        # "a kite", "heavy rain": a subject or the weather suggests where we are.
        homes = [_HOME[subject] for _, subject in sorted(subjects) if subject in _HOME]
        if homes:
            setting = homes[0]
        elif weather is not None:
            setting = Setting.SKY
    subject_words = {w for subject in Subject for w in SUBJECT_WORDS[subject]}
    colours: list[RGB] = []
    subject_colours: list[RGB] = []
    for index, word in enumerate(words):
        if word in COLOUR_WORDS:
            named = any(w in subject_words for w in words[index + 1 : index + 3])
            (subject_colours if named else colours).append(COLOUR_WORDS[word])
    colours += [rgb for char, rgb in COLOUR_CJK.items() if char in text]
    return Reading(
        words=words,
        setting=setting,
        time=_first(joined, text, TIME_WORDS, TIME_CJK) or TimeOfDay.DEFAULT,
        weather=weather or Weather.CLEAR,
        subjects=tuple(subject for _, subject in sorted(subjects)),
        colours=tuple(colours),
        subject_colour=subject_colours[0] if subject_colours else None,
    )


def _pick_setting(words: list[str], text: str) -> Setting:
    """The setting with the most keyword hits; ties go to the one mentioned first."""
    best, best_score, best_first = Setting.ABSTRACT, 0, len(words) + len(text)
    for setting, vocabulary in SETTING_WORDS.items():
        hits = [i for i, w in enumerate(words) if w in vocabulary or w.rstrip("s") in vocabulary]
        cjk = [len(words) + text.index(c) for c in SETTING_CJK[setting] if c in text]
        positions = hits + cjk
        score, first = len(positions), min(positions, default=best_first)
        if score > best_score or (score == best_score and score and first < best_first):
            best, best_score, best_first = setting, score, first
    return best


def _position(joined: str, text: str, phrases: tuple[str, ...], cjk: tuple[str, ...]) -> int | None:
    """Where the earliest of ``phrases`` (whole words) or ``cjk`` (substrings) occurs."""
    found = [len(joined) + text.index(c) for c in cjk if c in text]
    if phrases and (match := _whole_words(phrases).search(joined)):
        found.append(match.start())
    return min(found, default=None)


@functools.cache
def _whole_words(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for all of ``phrases`` as whole words: a search finds the leftmost place
    any of them matches, which is the earliest of their matches (one search instead of one
    per phrase: reading a prompt is on the way to a clip's first frame)."""
    return re.compile(rf"\b(?:{'|'.join(phrases)})\b")


def _first(
    joined: str,
    text: str,
    table: dict[K, tuple[str, ...]],
    cjk: dict[K, tuple[str, ...]],
    *,
    by_priority: bool = False,
) -> K | None:
    """The entry of ``table`` mentioned first in the prompt (or, ``by_priority``, the first
    entry of the table mentioned at all), or None."""
    found = [
        (index if by_priority else position, index, key)
        for index, key in enumerate(table)
        if (position := _position(joined, text, table[key], cjk.get(key, ()))) is not None
    ]
    return min(found, key=lambda item: (item[0], item[1]))[2] if found else None
