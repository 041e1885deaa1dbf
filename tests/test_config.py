from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.config import load_config
from digest.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
THEME = """themes:
  arms:
    title: Arms
    description: Weapons.
    signals:
      keywords: {arms: 1}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return str(caught.value)


def test_bundled_config_is_valid():
    config = load_config(ROOT / "schedule.yaml")
    assert list(config.themes) == ["arms-exports", "settler-violence", "solidarity"]
    assert config.editions["weekly"].themes == list(config.themes)


def test_unknown_key_names_file_line_and_path(tmp_path):
    text = THEME + "editions:\n  weekly:\n    title: W\n    themes: [arms]\n    stories_per_thme: 3\n"
    assert error(tmp_path, text) == "schedule.yaml:11: editions.weekly.stories_per_thme: unknown key (check its spelling and indentation)"


def test_wrong_type_and_bad_schedule(tmp_path):
    text = THEME + (
        "editions:\n  weekly:\n    title: W\n    themes: [arms]\n    stories_per_theme: lots\n"
        "    schedule: {cron: '0 7 * *', timezone: Mars/Olympus}\n"
    )
    message = error(tmp_path, text)
    assert "schedule.yaml:11: editions.weekly.stories_per_theme: Input should be a valid integer" in message
    assert "schedule.yaml:12: editions.weekly.schedule.cron: invalid cron expression" in message
    assert "schedule.yaml:12: editions.weekly.schedule.timezone: unknown IANA time zone 'Mars/Olympus'" in message


def test_edition_naming_an_unknown_theme(tmp_path):
    text = THEME + "editions:\n  weekly:\n    title: W\n    themes: [arms, solidarity]\n"
    assert error(tmp_path, text) == "schedule.yaml:10: editions.weekly.themes: unknown theme 'solidarity'"


def test_yaml_syntax_error_has_a_line(tmp_path):
    assert error(tmp_path, THEME + "editions: [\n").startswith("schedule.yaml:")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_either_a_config_or_a_config_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(exc).startswith("schedule.yaml")


def test_must_name_points_at_a_require_group(tmp_path):
    text = THEME.replace("      keywords:", "      require: [[arms], [israel]]\n      must_name: 3\n      keywords:")
    assert error(tmp_path, text).startswith("schedule.yaml:5: themes.arms.signals: must_name: 3, but require has 2 group(s)")


def test_a_theme_s_exclude_must_be_regular_expressions(tmp_path):
    text = THEME.replace("    signals:", "    exclude: ['\\bsettlers? (killed']\n    signals:")
    assert error(tmp_path, text).startswith(
        "schedule.yaml:5: themes.arms.exclude: bad regular expression '\\bsettlers? (killed': missing ), unterminated subpattern"
    )
