"""The theme model trained in a child process is the one trained here, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import load_config
from digest.errors import DigestError
from digest.stages import theme_apart
from digest.stages.theme_apart import train_apart
from digest.stages.theme_classifier import teaching, train_model
from digest.stages.theme_model import Example

REPO = Path(__file__).resolve().parent.parent


def test_a_model_trained_apart_is_the_model_trained_in_process():
    themes = load_config(REPO / "schedule.yaml").themes
    examples = teaching(themes)
    assert train_apart(themes, examples).to_json() == train_model(themes, examples).to_json()


def test_a_child_that_fails_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(theme_apart, "REQUEST_SCHEMA", "digest-theme-training/0")
    themes = load_config(REPO / "schedule.yaml").themes
    untrained = [*teaching(themes), Example("A training set no other test has trained.", None)]
    with pytest.raises(DigestError, match="training the theme model failed: unknown request schema"):
        train_apart(themes, untrained)


def test_a_process_trains_each_training_set_once(monkeypatch):
    themes = load_config(REPO / "schedule.yaml").themes
    examples = teaching(themes)
    first = train_apart(themes, examples)
    monkeypatch.setattr(theme_apart.subprocess, "run", None)  # a second child would fail
    assert train_apart(themes, examples) is first
