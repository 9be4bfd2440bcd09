"""Every file an operator edits is checked when read: an unknown key (a typo) or a value of
the wrong type is refused with one message naming the file, the key and what was expected;
the CLI exits 1 with it."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from orders_sync_gui.cli import main
from orders_sync_gui.resources import resource_path
from orders_sync_gui.services.monday_setup import Limits
from orders_sync_gui.settings import (
    SETTINGS_SCHEMA,
    SettingsError,
    file_problems,
    load_customer_map,
    load_mapping,
    load_settings,
    save_settings,
)


@pytest.fixture
def config(isolated_home):
    folder = isolated_home / "config"
    folder.mkdir(parents=True)
    return folder


def write(path, data) -> None:
    path.write_text(json.dumps(data), "utf-8")


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (
            {"monday": {"daily_request": 5000}},
            '"monday.daily_request": unknown key',
        ),
        (
            {"monday": {"limits": {"daily_request": 5000}}},
            '"monday.limits.daily_request": unknown key (did you mean "daily_requests"?',
        ),
        (
            {"monday": {"limits": {"complexity_per_minute": "1000000"}}},
            '"monday.limits.complexity_per_minute": expected a whole number, '
            'not the text "1000000"',
        ),
        (
            {"database": {"kind": "sqlserver", "encrypt": "yes"}},
            '"database.encrypt": expected true or false, not the text "yes"',
        ),
        ({"databse": {}}, '"databse": unknown key (did you mean "database"?'),
    ],
)
def test_a_refused_settings_file_names_the_file_and_the_key(config, capsys, settings, words):
    write(config / "settings.json", settings)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith(f"{config / 'settings.json'}: ") and words in message

    assert main(["detect"]) == 1
    err = capsys.readouterr().err
    assert words in err and str(config / "settings.json") in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_every_problem_of_a_file_is_in_its_one_message(config):
    write(
        config / "settings.json",
        {"monday": {"limits": {"complexity_per_minute": "1", "daily_request": 1}, "url": 5}},
    )
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    for key in ("limits.complexity_per_minute", "limits.daily_request", "url"):
        assert f'"monday.{key}"' in message


def test_settings_that_would_be_refused_are_never_written(config):
    with pytest.raises(SettingsError, match=r'"monday\.limits\.daily_request": unknown key'):
        save_settings({"monday": {"limits": {"daily_request": 5}}})
    assert not (config / "settings.json").exists()
    save_settings({"monday": {"limits": {"daily_requests": 5}, "board_id": "1"}})
    assert load_settings()["monday"]["limits"] == {"daily_requests": 5}


def test_the_mapping_and_the_customer_map_are_checked_too(config, capsys):
    mapping = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
    mapping["columns"][0]["titel"] = "typo"
    mapping["subitems"]["qty_column"]["column_id"] = 7
    write(config / "board_mapping.json", mapping)
    with pytest.raises(SettingsError) as refused:
        load_mapping()
    message = str(refused.value)
    assert str(config / "board_mapping.json") in message
    assert '"columns[0].titel": unknown key (did you mean "title"?' in message
    assert '"subitems.qty_column.column_id": expected a text, not the number 7' in message
    assert main(["detect"]) == 1
    assert '"columns[0].titel": unknown key' in capsys.readouterr().err

    (config / "board_mapping.json").unlink()
    write(config / "customer_map.json", {"aliases": {"GREYSON CLOTHIERS": 5}, "alias": {}})
    with pytest.raises(SettingsError) as refused:
        load_customer_map()
    message = str(refused.value)
    assert '"aliases.GREYSON CLOTHIERS": expected a text, not the number 5' in message
    assert '"alias": unknown key (did you mean "aliases"?' in message
    assert file_problems() == [message]


def test_the_bundled_files_and_the_known_limits_fit():
    assert file_problems() == []
    load_mapping()
    load_customer_map()  # its "_comment" is a comment
    limits = SETTINGS_SCHEMA.keys["monday"].keys["limits"].keys  # type: ignore[union-attr]
    assert set(limits) == {f.name for f in fields(Limits)}


def test_the_window_says_so_before_it_would_fail_later(config, capsys):
    """--smoke (what CI and scripts run) ends at once with the message; an operator's window
    opens the Settings dialog with it (tests/qt/test_settings_dialog.py)."""
    from orders_sync_gui.qt.app import main as window

    write(config / "settings.json", {"monday": {"limits": {"complexity_per_minute": "1e6"}}})
    assert window(["--smoke"]) == 1
    shown = json.loads(capsys.readouterr().out)
    assert '"monday.limits.complexity_per_minute": expected a whole number' in shown["error"]
