"""Social posts: reading the JSONL, the handle map, and posts whose author is not known yet."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from relcrm.errors import ConfigurationError, InvalidRecordError
from relcrm.models import Person, SocialHandle
from relcrm.sources import Identity, load_handle_map, read_social
from relcrm.sources.social import PostLine
from relcrm.store import Store
from relcrm.sync.ingest_sources import ingest_social

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'relcrm.db'}") as opened:
        yield opened


def post(**fields: object) -> str:
    base: dict[str, object] = {
        "platform": "X",
        "handle": "@jane",
        "text": "Love it",
        "time": "2026-11-20T09:00:00Z",
        "url": "https://x.com/jane/status/1",
        "public": True,
    }
    return json.dumps({**base, **fields})


def test_posts_are_read_and_bad_lines_named(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    lines = [
        post(post_id="1", reach=1200),  # a tool's own extra keys are ignored
        "",
        post(time="2026-11-20T09:00:00"),  # naive
        post(url=None),  # no post id and no url
        "{not json",
        post(),
    ]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    items = list(read_social(path))
    good = [i for i in items if isinstance(i, PostLine)]
    bad = [i.message for i in items if isinstance(i, InvalidRecordError)]
    assert [g.line for g in good] == [1, 6]
    assert good[0].post.platform == "x" and good[0].post.record_id == "x/1"
    assert good[1].post.record_id.startswith("x/url-")  # derived from the url
    assert bad[0].startswith("line 3: time: datetime must carry a time zone")
    assert bad[1].startswith("line 4: ") and "post_id or a url" in bad[1]
    assert bad[2].startswith("line 5: (record): not valid JSON")


def test_handle_map_by_email_or_person_id(tmp_path: Path) -> None:
    path = tmp_path / "handles.csv"
    path.write_text(
        "platform;handle;email;person_id\nx;@Jane;jane@example.com;\ninstagram;tom;;cust-7\n",
        encoding="utf-8",
    )
    owners = load_handle_map(path)
    assert owners.owner("x", "jane") == Identity("email", "jane@example.com")
    assert owners.owner("Instagram", "@TOM") == Identity("person", "cust-7")
    assert owners.owner("x", "tom") is None


def test_a_bad_handle_map_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "handles.csv"
    path.write_text("platform,handle,email\nx,@a,not-an-email\nx,@b,b@example.com\n")
    with pytest.raises(ConfigurationError, match="row 2: email"):
        load_handle_map(path)
    path.write_text("platform,handle\nx,@a\n")
    with pytest.raises(ConfigurationError, match="email or person_id"):
        load_handle_map(path)


def test_unresolved_posts_are_kept_redacted_and_resolved_later(
    store: Store, tmp_path: Path
) -> None:
    posts = tmp_path / "social.jsonl"
    shutil.copy(EXAMPLES / "social.jsonl", posts)

    first = ingest_social(posts, store)  # no handle map, nobody known: all wait
    assert first.rejections == []
    assert (first.perceptions_new, first.unresolved) == (0, 3)
    held = {p.key: p for p in store.iter_unresolved_posts()}
    assert set(held) == {"x/1700004321", "x/1700009999", next(k for k in held if "url-" in k)}
    assert "someone@example.com" not in held["x/1700009999"].text  # redacted before stored
    assert first.redactions == {"email": 1}

    again = ingest_social(posts, store)  # the same file again: still waiting, once each
    assert again.unresolved == 3 and store.count_unresolved_posts() == 3

    # A better handle map resolves two of them, from the file and from the table alike.
    second = ingest_social(posts, store, EXAMPLES / "handles.csv")
    assert second.rejections == []
    assert (second.perceptions_new, second.unresolved, second.held_resolved) == (2, 1, 2)
    siobhan = store.find_person("email", "siobhan.o'brien@example.com")
    assert siobhan is not None
    person = store.get_person(siobhan)
    assert person is not None and person.handles == (
        SocialHandle(platform="x", handle="@siobhanob"),
    )

    # A post held earlier resolves without the file, through a handle now stored.
    store.upsert_person(
        Person(id="cust-9", handles=(SocialHandle(platform="x", handle="someone_new"),))
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    third = ingest_social(empty, store)
    assert (third.perceptions_new, third.unresolved, third.held_resolved) == (1, 0, 1)
    [(_, [perception])] = [(p, ps) for p, ps in store.iter_person_perceptions() if p.id == "cust-9"]
    assert perception.public and perception.channel == "social"
    assert perception.verbatim is not None and "[email]" in perception.verbatim

    final = ingest_social(posts, store, EXAMPLES / "handles.csv")  # nothing changes now
    assert (final.perceptions_new, final.perceptions_known, final.unresolved) == (0, 3, 0)
