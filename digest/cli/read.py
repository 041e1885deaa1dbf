"""`digest read URL...`: what digest reads from web pages, so a user can see why a story looks as it does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from digest.cli.common import CONFIG_OPTION, JSON_OPTION, DigestCommand, ExitCode, finish, json_document
from digest.config import FetchConfig, load_config, url_form_problem
from digest.sources.sanitize import WEB_SCHEMES, safe_url

if TYPE_CHECKING:
    from digest.pipeline import PageReading


@click.command("read", cls=DigestCommand)
@click.argument("urls", nargs=-1, required=True)
@CONFIG_OPTION
@JSON_OPTION
def read(urls: tuple[str, ...], config_path: Path, as_json: bool) -> None:
    """Fetch each page (as a build would: robots.txt, limits) and print the article digest reads from it.

    Title, publisher, author, date and the paragraphs left after extraction and
    digest's cleaning. Uses the config's fetch settings when the config file exists.
    """
    from digest.pipeline import read_articles

    for url in urls:
        if (problem := url_form_problem(url)) is not None:
            raise click.BadParameter(problem, param_hint="URL")
        if not safe_url(url, schemes=WEB_SCHEMES) or not urlsplit(url).hostname:
            raise click.BadParameter(f"{url!r} is not an http(s) address", param_hint="URL")
    fetch = load_config(config_path).fetch if config_path.exists() else FetchConfig()
    readings = read_articles(list(urls), fetch=fetch, now=datetime.now(UTC))
    refused = [r for r in readings if r.article is None]
    exit_code = ExitCode.FAILED if refused else ExitCode.DONE
    summary = f"{len(readings) - len(refused)} of {len(readings)} pages read"
    if as_json:
        pages = [_json(reading) for reading in readings]
        click.echo(json_document("read", summary=summary, exit_code=exit_code, pages=pages))
    else:
        for reading in readings:
            click.echo(_text(reading))
        click.echo(summary)
    finish(exit_code)


def _json(reading: PageReading) -> dict[str, Any]:
    article = reading.article
    return {
        "url": reading.url,
        "canonical_url": article.url if article else None,
        "title": article.title if article else None,
        "site_name": article.site_name if article else None,
        "author": article.author if article else None,
        "published": article.published.isoformat() if article and article.published else None,
        "paragraphs": list(reading.paragraphs),
        "refused": reading.refusal.name.lower() if reading.refusal else None,
        "reason": (f"{reading.refusal}" + (f" ({reading.detail})" if reading.detail else "")) if reading.refusal else None,
    }


def _text(reading: PageReading) -> str:
    article = reading.article
    if article is None:
        detail = f" ({reading.detail})" if reading.detail else ""
        return f"{reading.url}\n  not read: {reading.refusal}{detail}\n"
    lines = [
        reading.url,
        f"  title:     {article.title or '-'}",
        f"  publisher: {article.site_name or '-'}",
        f"  author:    {article.author or '-'}",
        f"  date:      {article.published.isoformat() if article.published else '-'}",
        f"  canonical: {article.url}",
        "",
        *(f"  {paragraph}" for paragraph in reading.paragraphs),
        "",
    ]
    return "\n".join(lines)
