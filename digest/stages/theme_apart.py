"""Training the theme model in a child process, so the build itself never holds scikit-learn.

Importing scikit-learn and fitting a model on thousands of examples raises a
process's peak memory by a few hundred megabytes, and a process's peak never
comes down: trained inside `digest build`, it would stay with the build and with
every worker forked after it. A child interpreter takes the themes and examples
as JSON on stdin and writes the model as JSON (ThemeModel.to_json) on stdout.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence

from digest.config import Theme
from digest.errors import DigestError
from digest.stages.theme_classifier import model_key, remember_model, train_model, trained_here
from digest.stages.theme_model import Example, ThemeModel

REQUEST_SCHEMA = "digest-theme-training/1"


def train_apart(themes: Mapping[str, Theme], examples: Sequence[Example]) -> ThemeModel:
    """train_model() run in a child interpreter: the same model, none of its memory here.

    A process trains each training set once: a model it already has is not trained again.
    """
    key = model_key(themes, examples)
    if (known := trained_here(key)) is not None:
        return known
    request = json.dumps({
        "schema": REQUEST_SCHEMA,
        "themes": {key: theme.model_dump(mode="json", by_alias=True) for key, theme in themes.items()},
        "examples": [dataclasses.asdict(example) for example in examples],
    })
    child = subprocess.run(
        [sys.executable, "-m", "digest.stages.theme_apart"],
        input=request, capture_output=True, text=True, encoding="utf-8", check=False,
    )
    if child.returncode != 0:
        reason = child.stderr.strip().splitlines()[-1:] or [f"exit status {child.returncode}"]
        raise DigestError(f"training the theme model failed: {reason[0]}")
    return remember_model(key, ThemeModel.from_json(child.stdout))


def _main() -> None:
    request = json.loads(sys.stdin.read())
    if request.get("schema") != REQUEST_SCHEMA:
        raise SystemExit(f"unknown request schema {request.get('schema')!r}, expected {REQUEST_SCHEMA}")
    themes = {key: Theme.model_validate(value) for key, value in request["themes"].items()}
    examples = [Example(**example) for example in request["examples"]]
    sys.stdout.write(train_model(themes, examples).to_json())


if __name__ == "__main__":
    _main()
