"""Seed documents: plain-text files, each with an optional metadata sidecar.

``NAME.txt`` holds the text exactly as scraped; ``NAME.meta.yaml`` states
what the text itself says about its origin (publisher, title, author, date,
URL). Unknown values stay null: digest never invents a URL or a date, and
never names a source by its file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from digest.config import describe_errors, read_yaml
from digest.errors import ConfigError, SourceError
from digest.models import PUBLISHER_NOT_NAMED, Document, SourceRef
from digest.sources.sanitize import byline, clean_title, visible_text


class SeedMeta(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    publisher: str | None = None
    name: str | None = None
    """How to name the document to readers when it states no publisher."""
    title: str | None = None
    author: str | None = None
    published: date | None = None
    url: str | None = None


def read_meta(path: Path) -> SeedMeta:
    """A seed's metadata; a mistake in it is reported as `NAME.meta.yaml:LINE: key: what is wrong`."""
    if not path.exists():
        return SeedMeta()
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise SourceError(f"{path}:1: seed metadata must be a mapping of keys (publisher:, title:, …)")
        return SeedMeta.model_validate(data)
    except (YAMLError, OSError, UnicodeDecodeError):
        try:
            read_yaml(path)
        except ConfigError as located:  # the same mistake, with its line
            raise SourceError(_in_folder(path, str(located))) from None
        raise SourceError(f"{path}: cannot read the seed metadata") from None
    except ValidationError as exc:
        raise SourceError(_in_folder(path, describe_errors(path, read_yaml(path), exc))) from None


def _in_folder(path: Path, message: str) -> str:
    """Messages that name a file by its name alone, naming it by its path (seeds live in a folder)."""
    return "\n".join(
        f"{path}{line.removeprefix(path.name)}" if line.startswith(f"{path.name}:") else line
        for line in message.splitlines()
    )


def read_seed(path: Path) -> Document:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not UTF-8 text") from None
    meta = read_meta(path.with_suffix(".meta.yaml"))
    name = clean_title(meta.publisher or meta.name) or PUBLISHER_NOT_NAMED
    source = SourceRef(
        name=name,
        url=meta.url,
        published=meta.published,
        document=path.name,
        author=byline(meta.author, name),
    )
    return Document(id=path.name, text=visible_text(text), source=source, title=clean_title(meta.title))


def read_seeds(folder: Path) -> list[Document]:
    """Every ``*.txt`` in the folder, in file-name order (so editions are reproducible)."""
    if not folder.is_dir():
        raise SourceError(f"{folder}: seed folder not found")
    return [read_seed(path) for path in sorted(folder.glob("*.txt"))]
