"""The one place rendered output is snapshotted: the five files of the edition built from the seeds
with the bundled config and a fixed clock (email HTML, web page, text, .eml, JSON).

A template or stage change shows here once, as a diff of real files; every other
rendering test asserts properties of the output (what is shown, escaped, linked),
so one CSS edit does not rewrite a snapshot per test module.
"""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from snapshot_formats import EmlSnapshot, HTMLSnapshot, JSONSnapshot, TextSnapshot

from digest.config import load_config
from digest.outputs import write_outputs
from digest.pipeline import build_edition

ROOT = Path(__file__).resolve().parent.parent
CLOCK = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, bytes]:
    config = load_config(ROOT / "schedule.yaml")
    paths = write_outputs(build_edition(config, None, now=CLOCK), tmp_path_factory.mktemp("out"), config)
    return {path.name.split(".", 1)[1]: path.read_bytes() for path in paths}


def test_web_edition(outputs, snapshot):
    assert outputs["html"].decode() == snapshot.use_extension(HTMLSnapshot)


def test_email_html(outputs, snapshot):
    assert outputs["email.html"].decode() == snapshot.use_extension(HTMLSnapshot)


def test_text_edition(outputs, snapshot):
    assert outputs["txt"].decode() == snapshot.use_extension(TextSnapshot)


def test_eml(outputs, snapshot):
    assert outputs["eml"] == snapshot.use_extension(EmlSnapshot)


def test_edition_data(outputs, snapshot):
    assert outputs["json"].decode() == snapshot.use_extension(JSONSnapshot)
