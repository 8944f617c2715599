"""Interchange lines for the columnar staging tests: hypothesis strategies that write
perception lines the way people and programs do (valid, nearly valid and broken), and
the shapes the benchmark writes (``benchmarks/profile.py``)."""

from __future__ import annotations

import json
import math
import random
import struct
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from relcrm.models import Channel
from relcrm.models.perception import VERBATIM_MAX_CHARS, perception_id_for

# -- values, each sometimes wrong in the ways sources get them wrong ------------------------


class Raw:
    """A JSON token written as is (``0.60``, ``1e-1``, ``-0``): json.dumps cannot."""

    def __init__(self, token: str) -> None:
        self.token = token


ABSENT = object()
"""Leave the key out."""

texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=30
)
edges = st.sampled_from(["", " ", "\t", "\u00a0", "\u2003", "\x85", "é", "\n", "\u200b"])


@st.composite
def strings(draw: st.DrawFn, plain: st.SearchStrategy[str]) -> str:
    """Mostly plain text, sometimes with whitespace or non-ASCII at an edge."""
    value = draw(plain)
    if draw(st.integers(0, 4)) == 0:
        value = draw(edges) + value + draw(edges)
    return value


ascii_words = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 _.:@-/'\"\\", max_size=12
)
person_ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,20}", fullmatch=True),
    st.sampled_from(["", "p 1", "-p", "ü1", "a" * 128, "a" * 129, "P-1"]),
)
topics = st.one_of(
    st.sampled_from(["billing", "outage", "on boarding", "x.y-z_1", "a" * 80, "a" * 81]),
    st.sampled_from(["Billing", " billing", "billing ", "ÜBER", "日本", "", "bill\\ing"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz -_?!", min_size=1, max_size=12),
)


def numbers(low: float, high: float) -> st.SearchStrategy[object]:
    """Numbers in and around a range, written as JSON writes them or as people do."""
    inside = st.floats(min_value=low, max_value=high, allow_nan=False)
    return st.one_of(
        inside,
        st.floats(min_value=low - 1, max_value=high + 1, allow_nan=False),
        st.integers(int(low) - 1, int(high) + 1),
        st.sampled_from([-0.0, low, high, math.nextafter(high, math.inf), Raw("-0"), Raw("-0.0")]),
        inside.map(lambda x: Raw(f"{x:.17e}")),
        inside.map(lambda x: Raw(f"{x:.3f}0")),
        st.sampled_from([Raw("NaN"), Raw("Infinity"), Raw("1e999"), Raw("01"), Raw(".5")]),
        st.sampled_from(["0.5", True, False, None, "", [0.5], {"v": 1}]),
    )


def integers(low: int, high: int) -> st.SearchStrategy[object]:
    return st.one_of(
        st.integers(low - 2, high + 2),
        st.sampled_from([float(low), float(high) - 0.5, str(high), True, None, Raw("-0")]),
        st.sampled_from([Raw(f"{high}.0"), Raw(f"{low}e0"), Raw("1" + "0" * 20)]),
    )


def dates() -> st.SearchStrategy[str]:
    plain = st.builds(
        lambda y, mo, d, h, mi, s: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}",
        st.integers(1968, 2031),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 24),
        st.integers(0, 60),
        st.integers(0, 60),
    )
    fractions = st.sampled_from(["", ".0", ".5", ".000000", ".123456", ".1234567", ".12", "."])
    zones = st.sampled_from(
        ["Z", "+00:00", "-00:00", "+05:30", "-23:59", "+24:00", "z", "", "+0530", "+01:00"]
    )
    usual = st.builds(
        lambda day, h, m, fraction, zone: f"{day}T{h:02d}:{m:02d}:07{fraction}{zone}",
        st.sampled_from(["2025-10-02", "2024-02-29", "2026-01-01", "1970-01-01", "2029-12-31"]),
        st.integers(0, 23),
        st.integers(0, 59),
        fractions,
        zones,
    )
    odd = st.sampled_from(
        [
            "2025-10-02 06:26:08Z",
            "2025-10-02",
            "2025-10-02T06:26Z",
            "9999-12-31T23:59:59-05:00",
            "0001-01-01T00:30:00+01:00",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
            "1970-01-01T00:59:59+01:00",
            "2023-02-29T10:00:00Z",
            "1700000000",
            "2025-10-02T06:26:08.5Z",
        ]
    )
    return st.one_of(usual, st.builds(lambda p, f, z: p + f + z, plain, fractions, zones), odd)


def optional(
    strategy: st.SearchStrategy[object], absent_weight: int = 2
) -> st.SearchStrategy[object]:
    return st.one_of(*([st.just(ABSENT)] * absent_weight), st.none(), strategy)


@st.composite
def objects(
    draw: st.DrawFn, fields: dict[str, st.SearchStrategy[object]], unknown: bool = True
) -> object:
    """An object with some of ``fields`` (each maybe ABSENT), sometimes an unknown key,
    sometimes not an object at all."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from([None, 5, "x", [], True]))
    data = {key: draw(value) for key, value in fields.items()}
    if unknown and draw(st.integers(0, 14)) == 0:
        data["rage"] = 0.5
    return data


EMOTIONS = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")


def _valid_numbers(low: float, high: float) -> st.SearchStrategy[object]:
    inside = st.floats(min_value=low, max_value=high, allow_nan=False)
    return st.one_of(
        inside,
        st.integers(math.ceil(low), math.floor(high)),
        st.sampled_from([low, high, -0.0 if low <= 0 else low, Raw("-0") if low <= 0 else low]),
        inside.map(lambda x: Raw(f"{x:.17e}")),
        inside.map(lambda x: Raw(f"{x:.3f}0")),
    )


valid_topics = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789 -_.", min_size=1, max_size=80
).filter(lambda t: t.strip() == t)
valid_dates = st.builds(
    lambda moment, fraction, zone: moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone,
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2029, 12, 30)),
    st.sampled_from(["", "", ".5", ".123456", ".000000", ".000001", ".12"]),
    st.sampled_from(["Z", "+00:00", "-00:00", "+05:30", "-03:00", "+14:00", "-23:59"]),
)


@st.composite
def _scale(draw: st.DrawFn) -> dict[str, object]:
    low = draw(st.integers(-3, 3))
    high = draw(st.integers(low + 1, low + 10))
    return {
        "value": draw(_valid_numbers(low, high)),
        "scale_min": low,
        "scale_max": high,
    }


@st.composite
def _csat(draw: st.DrawFn) -> dict[str, object]:
    if draw(st.booleans()):
        return {"value": draw(_valid_numbers(1, 5))}
    return draw(_scale())


@st.composite
def _ces(draw: st.DrawFn) -> dict[str, object]:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return {"value": draw(_valid_numbers(1, 5)), "version": "1.0"}
    if choice == 1:
        return {"value": draw(_valid_numbers(1, 7)), "version": "2.0"}
    scale = draw(_scale())
    return {**scale, "direction": draw(st.sampled_from(["effort", "ease"]))}


def _subset(fields: dict[str, st.SearchStrategy[object]]) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries({}, optional=fields)


@st.composite
def valid_perceptions(draw: st.DrawFn) -> dict[str, object]:
    """A perception's JSON object that pydantic accepts (keys may come in any order)."""
    data: dict[str, object] = {
        "person_id": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,20}", fullmatch=True)),
        "occurred_at": draw(valid_dates),
        "channel": draw(st.sampled_from([c.value for c in Channel])),
    }
    optional_fields: dict[str, st.SearchStrategy[object]] = {
        "touchpoint": st.none() | valid_topics,
        "topic": st.none() | valid_topics,
        "public": st.booleans(),
        "nps": st.none()
        | _subset({"kind": st.sampled_from(["relational", "transactional"])})
        .map(lambda d: d)
        .flatmap(lambda d: st.integers(0, 10).map(lambda v: {"value": v, **d})),
        "csat": st.none() | _csat(),
        "ces": st.none() | _ces(),
        "valence": st.none() | _valid_numbers(-1, 1),
        "arousal": st.none() | _valid_numbers(0, 1),
        "emotions": _subset({key: _valid_numbers(0, 1) for key in EMOTIONS}),
        "flags": _subset({key: st.booleans() for key in ("churn_intent", "sarcasm", "trapped")}),
        "verbatim": st.none()
        | st.text(
            alphabet=st.characters(
                codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")
            ),
            min_size=1,
            max_size=20,
        ).map(lambda t: f"{t} {t}")
        | st.sampled_from(
            [
                "Charged twice, mail me at jo@example.com or +1 415 555 0100.",
                "x" * VERBATIM_MAX_CHARS,
                'line one\nline two "quoted" \\ back',
            ]
        ),
        "confidence": st.none() | _valid_numbers(0, 1),
    }
    data.update(draw(_subset(optional_fields)))
    if all(data.get(key) is None for key in ("nps", "csat", "ces", "valence", "verbatim")):
        data["valence"] = draw(_valid_numbers(-1, 1))
    provenance: dict[str, object] = {
        "source_system": draw(st.sampled_from(["bench", "survey-tool", "s"])),
        "source_record_id": draw(
            st.text(
                alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                min_size=1,
                max_size=12,
            ).filter(lambda t: t.strip() == t)
        ),
    }
    provenance.update(
        draw(
            _subset(
                {
                    "analyzer": st.none() | st.just("relcrm-linear"),
                    "analyzer_version": st.none() | st.just("1.2"),
                }
            )
        )
    )
    data["provenance"] = provenance
    return data


HOSTILE: dict[str, st.SearchStrategy[object]] = {
    "person_id": st.one_of(
        person_ids, person_ids.map(lambda p: f" {p}"), st.just(ABSENT), st.just(5)
    ),
    "occurred_at": st.one_of(dates(), st.just(ABSENT), st.just(17), st.none()),
    "channel": st.sampled_from(["Survey", " chat", "fax", 1, None, ABSENT]),
    "touchpoint": topics,
    "topic": st.one_of(topics, st.just(5)),
    "public": st.sampled_from([None, "true", 1, 0]),
    "nps": objects(
        {
            "value": integers(0, 10),
            "kind": optional(st.sampled_from(["relational", "transactional", "Relational"])),
        }
    ),
    "csat": objects(
        {
            "value": numbers(1, 7),
            "scale_min": optional(integers(0, 1)),
            "scale_max": optional(integers(5, 10)),
        }
    ),
    "ces": objects(
        {
            "value": numbers(1, 7),
            "version": optional(st.sampled_from(["1.0", "2.0", "3.0", 2.0, None])),
            "scale_min": optional(integers(1, 1)),
            "scale_max": optional(integers(5, 7)),
            "direction": optional(st.sampled_from(["effort", "ease", "Ease", None])),
        }
    ),
    "valence": numbers(-1, 1),
    "arousal": numbers(0, 1),
    "confidence": numbers(0, 1),
    "emotions": objects({key: st.one_of(st.just(ABSENT), numbers(0, 1)) for key in EMOTIONS}),
    "flags": objects(
        {
            key: st.one_of(st.just(ABSENT), st.booleans(), st.sampled_from([None, "yes", 1]))
            for key in ("churn_intent", "sarcasm", "trapped")
        }
    ),
    "verbatim": st.one_of(
        strings(texts),
        st.sampled_from(
            [
                "x" * (VERBATIM_MAX_CHARS + 1),
                "é" * VERBATIM_MAX_CHARS,
                "é" * (VERBATIM_MAX_CHARS + 1),
                "",
                " padded ",
                5,
            ]
        ),
    ),
    "provenance": st.one_of(
        st.sampled_from([None, "x", ABSENT, {"source_system": "s"}]),
        objects(
            {
                "source_system": st.one_of(
                    strings(ascii_words), st.just("s" * 81), st.just("s" * 80)
                ),
                "source_record_id": st.one_of(
                    strings(texts), st.just("r" * 200), st.just("r" * 201)
                ),
                "analyzer": optional(st.one_of(strings(ascii_words), st.just("a" * 81))),
                "analyzer_version": optional(
                    st.one_of(st.just("1.2"), st.just("v" * 41), st.just(""))
                ),
            }
        ),
    ),
    "id": st.sampled_from(["pc_0000", "", None]),
    "mood": st.just("fine"),
}


@st.composite
def perceptions(draw: st.DrawFn) -> dict[str, object]:
    """A valid perception, or one with a field or two made wrong (or nearly wrong)."""
    data = draw(valid_perceptions())
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        key = draw(st.sampled_from(sorted(HOSTILE)))
        data[key] = draw(HOSTILE[key])
    if draw(st.integers(0, 19)) == 0:
        source = data.get("provenance")
        if isinstance(source, dict):
            system, record = source.get("source_system"), source.get("source_record_id")
            if isinstance(system, str) and isinstance(record, str):
                data["id"] = perception_id_for(system, record)
    return data


# -- writing a line ---------------------------------------------------------------------------


def _cleaned(value: object, raws: list[str]) -> object:
    if isinstance(value, Raw):
        raws.append(value.token)
        return f"\x00raw{len(raws) - 1}\x00"
    if isinstance(value, dict):
        return {k: _cleaned(v, raws) for k, v in value.items() if v is not ABSENT}
    return value


def dumps(data: dict[str, object], rnd: random.Random, *, ascii_only: bool, spaced: bool) -> str:
    """The object as JSON, keys in the order given, Raw tokens as written."""
    raws: list[str] = []
    body = json.dumps(
        _cleaned(data, raws),
        ensure_ascii=ascii_only,
        separators=(", ", ": ") if spaced else (",", ":"),
    )
    for index, token in enumerate(raws):
        body = body.replace(f'"\\u0000raw{index}\\u0000"', token)
        body = body.replace(f'"\x00raw{index}\x00"', token)
    return body


@st.composite
def perception_lines(draw: st.DrawFn) -> str:
    """A perception line, sometimes spoiled at the text level."""
    data = draw(perceptions())
    rnd = random.Random(draw(st.integers(0, 2**32)))
    keys = list(data)
    if draw(st.booleans()):
        rnd.shuffle(keys)
    ordered: dict[str, object] = {"type": "perception"} if draw(st.integers(0, 5)) else {}
    ordered.update({key: data[key] for key in keys})
    if "type" not in ordered:
        ordered["type"] = draw(st.sampled_from(["perception", "Perception", None]))
    line = dumps(ordered, rnd, ascii_only=draw(st.integers(0, 5)) == 0, spaced=draw(st.booleans()))
    spoil = draw(st.integers(0, 24))
    if spoil == 0:
        line = line[: draw(st.integers(0, len(line) - 1))]
    elif spoil == 1:
        line = line[:-1] + ",}"
    elif spoil == 2:
        line = '{"channel":"chat",' + line[1:]
    elif spoil == 3:
        line = line.replace(
            '"provenance":', '"provenance": {"source_system": "x"}, "provenance":', 1
        )
    elif spoil == 4:
        line = " " + line + " \t"
    elif spoil == 5:
        line = "\ufeff" + line
    elif spoil == 6:
        line = line.replace(":", ": /* c */", 1)
    elif spoil == 7:
        line = "[" + line + "]"
    elif spoil == 8:
        line = line.replace('"nps":{', '"nps":{"value":3,', 1)
    return line


PERSON_LINE = (
    '{"type":"person","id":"b0000001","emails":["b0000001@example.com"],"consent":{"granted":true}}'
)
PREFERENCE_LINE = (
    '{"type":"preference","person_id":"b0000001","kind":"channel","value":"email",'
    '"stated_at":"2026-01-02T10:00:00Z","provenance":{"source_system":"s","source_record_id":"1"}}'
)


@st.composite
def raw_chunks(draw: st.DrawFn) -> list[bytes | None]:
    """A chunk's raw lines: perceptions mixed with persons, preferences, blank lines,
    CRLF endings, over-long lines (None) and invalid UTF-8."""
    lines = draw(
        st.lists(
            st.one_of(
                perception_lines(),
                perception_lines(),
                perception_lines(),
                st.sampled_from(
                    [PERSON_LINE, PREFERENCE_LINE, "", "   ", "\u2003", "not json", "{}", "[]"]
                ),
            ),
            min_size=1,
            max_size=25,
        )
    )
    raws: list[bytes | None] = []
    for line in lines:
        ending = draw(st.sampled_from(["\n", "\n", "\r\n", "\r\r\n"]))
        raw = (line + ending).encode()
        odd = draw(st.integers(0, 29))
        if odd == 0:
            raws.append(None)
            continue
        if odd == 1:
            raw = raw[:1] + b"\xff" + raw[1:]
        raws.append(raw)
    if raws[-1] is not None and draw(st.booleans()):
        raws[-1] = raws[-1].rstrip(b"\r\n")  # the file's last line may have no ending
    return raws


# -- the benchmark's shapes (benchmarks/profile.py write_dataset), plus verbatims to redact ---

_SURVEYS = (
    [f'"channel":"survey","touchpoint":"relationship","nps":{{"value":{v}}}' for v in range(11)]
    + [f'"channel":"survey","touchpoint":"support","csat":{{"value":{v}}}' for v in range(1, 6)]
    + [f'"channel":"survey","ces":{{"value":{v},"version":"2.0"}}' for v in range(1, 8)]
)
_TEXTS = [
    ("support", "billing", -0.6, '{"anger":0.8}', "Charged twice again and nobody answers."),
    ("support", "outage", -0.4, '{"anger":0.5,"fear":0.3}', "The portal is down before month end."),
    ("chat", "onboarding", 0.5, '{"joy":0.6,"trust":0.4}', "Thanks, that fixed it quickly."),
    ("social", "outage", -0.7, '{"anger":0.6,"disgust":0.5}', "Down AGAIN. Avoid."),
    ("review", "product", 0.8, '{"joy":0.7,"trust":0.5}', "Five stars, would buy again."),
    ("email", "pricing", -0.3, '{"sadness":0.4}', "Sad to see the free tier go."),
    ("event", "roadmap", 0.6, '{"anticipation":0.7}', "Looking forward to the new release."),
    (
        "email",
        "billing",
        -0.5,
        '{"anger":0.4}',
        "Call me on +44 20 7946 0958 or mail ann@example.org",
    ),
]
BENCH_BODIES = _SURVEYS + [
    f'"channel":"{channel}","topic":"{topic}","valence":{valence},"emotions":{emotions},'
    f'"confidence":0.6,"verbatim":"{text}"'
    + (',"public":true' if channel in ("social", "review") else "")
    + (',"flags":{"churn_intent":true}' if topic == "outage" and channel == "support" else "")
    for channel, topic, valence, emotions, text in _TEXTS
]


def bench_lines(count: int, seed: int = 7) -> list[str]:
    """``count`` persons' lines as the benchmark writes them: a person, then nine
    perceptions each (every body of the pool appears at least once)."""
    from datetime import UTC, datetime, timedelta

    rnd = random.Random(seed)
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    lines: list[str] = []
    bodies = iter(BENCH_BODIES)
    for index in range(count):
        pid = f"b{index:07d}"
        lines.append(PERSON_LINE.replace("b0000001", pid))
        for number in range(9):
            when = (now - timedelta(seconds=rnd.randrange(730 * 86400))).isoformat()
            body = next(bodies, None) or rnd.choice(BENCH_BODIES)
            source = f'{{"source_system":"bench","source_record_id":"{pid}-{number}"}}'
            lines.append(
                f'{{"type":"perception","person_id":"{pid}","occurred_at":"{when}",{body},'
                f'"provenance":{source}}}'
            )
    return lines


def same_values(left: tuple[Any, ...], right: tuple[Any, ...]) -> bool:
    """Equal value by value, floats bit for bit (0.0 is not -0.0), types alike."""
    if len(left) != len(right):
        return False
    for a, b in zip(left, right, strict=True):
        if type(a) is not type(b):
            return False
        if isinstance(a, float) and struct.pack("<d", a) != struct.pack("<d", b):
            return False
        if not isinstance(a, float) and a != b:
            return False
    return True
