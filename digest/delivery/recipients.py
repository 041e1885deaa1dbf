"""Who receives an edition: the inline list or the file named in schedule.yaml.

Addresses are checked with email-validator (syntax only: no DNS lookups, so
loading a list works offline and fast). Local parts must be ASCII: the
message is built for plain SMTP, without SMTPUTF8; an internationalised
domain is kept in its ASCII (punycode) form. `digest validate` reports every
bad address with where it was found; at send time a bad line is reported
(file:line) and skipped, and the rest of the readers get the edition.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from digest.config import Config
from digest.errors import ConfigError

log = logging.getLogger(__name__)


def normalize_address(address: str) -> str:
    """The address as it will be used on the envelope; ValueError says what is wrong."""
    # imported here: building an edition needs no address checks, and this import takes 35 ms
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return valid.ascii_email or valid.normalized


def read_address_file(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of each address line: blank lines and '#' comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such address file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.append((number, entry))
    return entries


@dataclass(frozen=True)
class Problem:
    """A mistake in what an edition is sent with: at ``key`` in schedule.yaml, or at ``file``:``line``."""

    message: str
    key: tuple[str | int, ...] = ()
    file: Path | None = None
    line: int | None = None


def sort_addresses(entries: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Normalised addresses (first occurrence kept) and one message per bad entry.

    ``entries`` pairs a location for messages (``list.txt:3``) with the text.
    """
    seen: set[str] = set()
    addresses: list[str] = []
    problems: list[str] = []
    for where, text in entries:
        try:
            address = normalize_address(text)
        except ValueError as exc:
            problems.append(f"{where}: {text!r} is not a valid address: {exc}")
            continue
        if address.lower() not in seen:
            seen.add(address.lower())
            addresses.append(address)
    return addresses, problems


def validate_addresses(entries: Iterable[tuple[str, str]]) -> list[str]:
    """Normalised addresses, first occurrence kept; one ConfigError lists every bad entry."""
    addresses, problems = sort_addresses(entries)
    if problems:
        raise ConfigError("\n".join(problems))
    return addresses


def _entries(config: Config, name: str) -> list[tuple[str, str]]:
    _, edition = config.edition(name)
    if isinstance(edition.recipients, str):
        path = config.path(Path(edition.recipients))
        return [(f"{path.name}:{line}", text) for line, text in read_address_file(path)]
    return [(f"editions.{name}.recipients[{i}]", text) for i, text in enumerate(edition.recipients)]


def load_recipients(config: Config, name: str) -> list[str]:
    """The edition's readers, validated, in list order, without duplicates; a bad entry is logged and skipped."""
    addresses, problems = sort_addresses(_entries(config, name))
    for problem in problems:
        log.warning("%s; skipped", problem)
    return addresses


def recipient_problems(config: Config, name: str) -> list[Problem]:
    """Every bad entry of an edition's recipients, where it is (for `digest validate`)."""
    _, edition = config.edition(name)
    if isinstance(edition.recipients, str):
        path = config.path(Path(edition.recipients))
        if not path.is_file():
            return [Problem(f"recipients file {path} not found", key=("editions", name, "recipients"))]
        return [
            Problem(f"{text!r} is not a valid address: {problem}", file=path, line=line)
            for line, text in read_address_file(path)
            for problem in _address_problem(text)
        ]
    return [
        Problem(f"{text!r} is not a valid address: {problem}", key=("editions", name, "recipients", i))
        for i, text in enumerate(edition.recipients)
        for problem in _address_problem(text)
    ]


def _address_problem(text: str) -> list[str]:
    try:
        normalize_address(text)
    except ValueError as exc:
        return [str(exc)]
    return []


def editor_problems(config: Config, name: str) -> list[Problem]:
    """Every bad address among the editors of a reviewed edition (``review.editors``)."""
    _, edition = config.edition(name)
    if edition.review is None:
        return []
    return [
        Problem(f"editor {text!r} is not a valid address: {problem}", key=("editions", name, "review", "editors", i))
        for i, text in enumerate(edition.review.editors)
        for problem in _address_problem(text)
    ]
