"""Edit the `feeds:` list of schedule.yaml without disturbing anything else.

ruamel.yaml reads the file (it knows where every item starts), but the edit
is made on the text: dumping the whole tree back would re-wrap the long flow
lists under `themes:`. New items are rendered by ruamel.yaml in the list's
own indentation; every other line, comments included, stays byte for byte.
An edit that would make the config invalid is refused and the file is left
as it was.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from digest.config import load_config, read_yaml
from digest.errors import ConfigError

FEED_KEYS = ("url", "name", "themes", "include", "exclude", "enabled")
"""The order keys are written in, as in the documentation."""


def add_feeds(path: Path, feeds: Sequence[Mapping[str, Any]]) -> None:
    """Append feeds (mappings of FeedConfig keys) to the `feeds:` list."""
    if not feeds:
        return
    text, tree = _read(path)
    lines = text.splitlines(keepends=True)
    node = tree.get("feeds")
    if "feeds" not in tree:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += ["\nfeeds:\n", *_render(feeds, indent=2)]
    elif isinstance(node, CommentedSeq) and node and not node.fa.flow_style():
        insert_at = _content_end(lines, _region_end(tree, lines, "feeds")) + 1
        lines[insert_at:insert_at] = _render(feeds, indent=_dash_column(lines, node))
    else:
        existing = list(node) if isinstance(node, list) else []
        _replace_region(tree, lines, [*map(_plain, existing), *feeds])
    _write_validated(path, "".join(lines))


def remove_feed(path: Path, index: int) -> None:
    """Remove the feed at ``index`` (0-based) of the `feeds:` list."""
    text, tree = _read(path)
    lines = text.splitlines(keepends=True)
    node = tree.get("feeds")
    if not isinstance(node, list) or not 0 <= index < len(node):
        raise ConfigError(f"{path.name}: there is no feed #{index + 1}")
    if isinstance(node, CommentedSeq) and not node.fa.flow_style():
        start = _item_start(lines, node, index)
        end = node.lc.item(index + 1)[0] if index + 1 < len(node) else _region_end(tree, lines, "feeds")
        del lines[start : _content_end(lines, end) + 1]
        if len(node) == 1:
            key_line = tree.lc.key("feeds")[0]
            lines[key_line] = lines[key_line].replace("feeds:", "feeds: []", 1)
    else:
        _replace_region(tree, lines, [_plain(item) for i, item in enumerate(node) if i != index])
    _write_validated(path, "".join(lines))


def set_enabled(path: Path, index: int, enabled: bool) -> None:
    """Switch the feed at ``index`` (0-based) on or off: its `enabled:` line is changed, or added."""
    text, tree = _read(path)
    lines = text.splitlines(keepends=True)
    node = tree.get("feeds")
    if not isinstance(node, list) or not 0 <= index < len(node):
        raise ConfigError(f"{path.name}: there is no feed #{index + 1}")
    item = node[index]
    value = "true" if enabled else "false"
    in_blocks = isinstance(node, CommentedSeq) and not node.fa.flow_style()
    if not (in_blocks and isinstance(node, CommentedSeq) and isinstance(item, CommentedMap)) or item.fa.flow_style():
        items = [_plain(feed) for feed in node]
        items[index]["enabled"] = enabled
        _replace_region(tree, lines, items)
    elif "enabled" in item:
        line, column = item.lc.value("enabled")
        lines[line] = lines[line][:column] + re.sub(r"^[^\s#]+", value, lines[line][column:], count=1)
    else:
        end = _item_start(lines, node, index + 1) if index + 1 < len(node) else _region_end(tree, lines, "feeds")
        key_column = item.lc.key(next(iter(item)))[1]
        lines.insert(_content_end(lines, end) + 1, " " * key_column + f"enabled: {value}\n")
    _write_validated(path, "".join(lines))


def _read(path: Path) -> tuple[str, CommentedMap]:
    tree = read_yaml(path)
    if not isinstance(tree, CommentedMap):
        raise ConfigError(f"{path.name}:1: the config must be a mapping of keys")
    if tree.fa.flow_style():  # the edits are made on block-style lines
        raise ConfigError(
            f"{path.name}:1: written as one flow mapping ({{...}}, as JSON is): `digest feeds` edits only "
            "block-style YAML; edit its feeds: list by hand"
        )
    return path.read_text(encoding="utf-8"), tree


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.width = 4096
    return yaml


def _render(feeds: Sequence[Mapping[str, Any]], indent: int) -> list[str]:
    """Block-style list items, their dashes at column ``indent``."""
    items = CommentedSeq()
    for feed in feeds:
        item = CommentedMap()
        for key in FEED_KEYS:
            value = feed.get(key)
            if value is None or value == [] or (key == "enabled" and value is True):
                continue
            if isinstance(value, (list, tuple)):
                value = CommentedSeq(value)
                value.fa.set_flow_style()
            item[key] = value
        items.append(item)
    out = io.StringIO()
    _yaml().dump(items, out)
    return [" " * indent + line for line in out.getvalue().splitlines(keepends=True)]


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _top_level_keys(tree: CommentedMap) -> list[tuple[int, str]]:
    return sorted((tree.lc.key(key)[0], key) for key in tree)


def _region_end(tree: CommentedMap, lines: list[str], key: str) -> int:
    """Index of the first line after ``key``'s value (the next top-level key, or the end)."""
    start = tree.lc.key(key)[0]
    later = [line for line, _ in _top_level_keys(tree) if line > start]
    return later[0] if later else len(lines)


def _is_filler(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _content_end(lines: list[str], end: int) -> int:
    """The last line before ``end`` that is not blank or a comment (comments there introduce what follows)."""
    last = end - 1
    while last > 0 and _is_filler(lines[last]):
        last -= 1
    return last


def _item_start(lines: list[str], node: CommentedSeq, index: int) -> int:
    line: int = node.lc.item(index)[0]
    if line > 0 and lines[line - 1].strip() == "-":
        return line - 1
    return line


def _dash_column(lines: list[str], node: CommentedSeq) -> int:
    first = lines[_item_start(lines, node, 0)]
    return len(first) - len(first.lstrip())


def _replace_region(tree: CommentedMap, lines: list[str], feeds: list[Any]) -> None:
    """Rewrite `feeds:` as a block list (it was absent, empty or in flow style)."""
    start = tree.lc.key("feeds")[0]
    end = _content_end(lines, _region_end(tree, lines, "feeds")) + 1
    body = _render(feeds, indent=2) if feeds else []
    lines[start : max(end, start + 1)] = ["feeds:\n" if feeds else "feeds: []\n", *body]


def _write_validated(path: Path, text: str) -> None:
    """Replace the file only if the edited text is still a valid config."""
    draft = path.with_name(f".{path.name}.edit")
    draft.write_text(text, encoding="utf-8")
    try:
        shutil.copymode(path, draft)
        load_config(draft)
    except ConfigError as exc:
        draft.unlink()
        message = str(exc).replace(draft.name, path.name)
        raise ConfigError(f"{path.name}: edit refused, it would make the config invalid:\n{message}") from None
    except BaseException:
        draft.unlink()
        raise
    os.replace(draft, path)
