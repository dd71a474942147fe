"""Peers by name: display names per language, stored on both backends, set at pairing or by
`redline peer rename`, checked before anything is written."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from redline.domain.stations import PeerRecord, check_peer_names
from redline.errors import InputError, NotFound
from redline.store.station import Store
from tests.test_cli import export_card, fails, init, ok, redline
from tests.test_store import T0, T1, run

PEER = PeerRecord(
    station_id="beijing",
    name="Beijing Joint Staff",
    signing_key="k" * 64,
    encryption_key="e" * 64,
    tls_fingerprint="f" * 64,
    tls_certificate="CERT",
    endpoints=("https://a:1",),
    card="{}",
    added_at=T0,
    verified_at=None,
)


def test_display_name_falls_back_to_english_then_the_card() -> None:
    named = replace(PEER, display_names=(("en", "Beijing"), ("zh-Hans", "北京")))
    assert named.display_name("zh-Hans") == "北京"
    assert named.display_name("en") == "Beijing"
    assert named.display_name("fr") == "Beijing"
    assert PEER.display_name("zh-Hans") == "Beijing Joint Staff"


def test_peer_names_are_checked() -> None:
    names = check_peer_names(["en=Beijing", "zh-Hans= 北京 ", "fr="])
    assert names == {"en": "Beijing", "zh-Hans": "北京", "fr": ""}
    for bad, fragment in [
        (["Beijing"], "is not LANG=NAME"),
        (["english=Beijing"], "lang: 'english' is not a BCP 47"),
        (["en=" + "x" * 65], "at most 64 printable"),
        (["en=a\nb"], "at most 64 printable"),
        (["en=A", "en=B"], "en is given twice"),
    ]:
        with pytest.raises(InputError, match=fragment):
            check_peer_names(bad)


def test_peer_names_are_stored_merged_and_removed(url: str) -> None:
    async def scenario(store: Store) -> None:
        await store.add_peer(replace(PEER, display_names=(("en", "Beijing"),)))
        assert (await store.peer("beijing")).display_names == (("en", "Beijing"),)  # type: ignore[union-attr]
        await store.set_peer_names("beijing", {"zh-Hans": "北京"}, T1, "admin")
        got = await store.peer("beijing")
        assert got is not None and got.display_names == (("en", "Beijing"), ("zh-Hans", "北京"))
        await store.set_peer_names("beijing", {"en": ""}, T1, "admin")
        got = await store.peer("beijing")
        assert got is not None and got.display_names == (("zh-Hans", "北京"),)
        assert got.display_name("en") == "Beijing Joint Staff"  # no English name left: the card's
        with pytest.raises(NotFound, match="no peer 'nobody'"):
            await store.set_peer_names("nobody", {"en": "X"}, T1, "admin")

    run(url, scenario)


def test_cli_names_a_peer_at_pairing_and_renames_it(tmp_path: Path) -> None:
    w, b = init(tmp_path, "washington"), init(tmp_path, "beijing")
    b_card = export_card(tmp_path, b)
    added = ok(redline("peer", "add", b_card, "--data-dir", w, "--display-name", "en=Beijing", cwd=tmp_path))
    assert "added peer 'beijing' (Beijing)" in added.stdout
    renamed = ok(redline("peer", "rename", "beijing", "zh-Hans=北京", "--data-dir", w, cwd=tmp_path))
    assert "shown as en=Beijing, zh-Hans=北京" in renamed.stdout
    listed = ok(redline("peer", "list", "--data-dir", w, cwd=tmp_path)).stdout
    assert "Beijing / 北京" in listed
    fails(redline("peer", "rename", "beijing", "北京", "--data-dir", w, cwd=tmp_path), "is not LANG=NAME")
    fails(redline("peer", "rename", "moscow", "en=Moscow", "--data-dir", w, cwd=tmp_path), "no peer 'moscow'")
    # A refused rename wrote nothing.
    listed_again = ok(redline("peer", "list", "--data-dir", w, cwd=tmp_path)).stdout
    assert listed_again == listed
    assert json.loads(b_card.read_text())["station"] == "beijing"


def test_console_shows_the_peer_by_its_name_in_the_readers_language(station_pair) -> None:  # type: ignore[no-untyped-def]
    from tests.support.console import ConsoleClient, create_account, redline_cli

    w, _b = station_pair
    redline_cli(w, "peer", "rename", "beijing", "en=Beijing", "zh-Hans=北京")
    alice = create_account(w, "alice")
    with ConsoleClient(w) as wc:
        wc.login(alice)
        wc.send_text("hello")
        wc.post("/settings/language", {"language": "zh-Hans"})
        zh = {"accept-language": "zh-Hans"}
        for path in ("/traffic", "/links", "/compose", "/transcripts"):
            body = wc.get(path, headers=zh).text
            assert "北京" in body, path
        traffic = wc.get("/traffic", headers=zh).text
        assert 'title="beijing">北京' in traffic  # the station id stays at hand, in a tooltip
        wc.post("/settings/language", {"language": "en"})
        assert 'title="beijing">Beijing<' in wc.get("/traffic", headers={"accept-language": "en"}).text
