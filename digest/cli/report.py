"""The one summary line, the JSON and the exit status of `digest build` and `digest send`.

Written for a reader who has not read the code: what went in, what was left
out and why, where the result is. Internal ids (edition and send ids) never
appear; the edition is called by its title and date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from digest.cli.common import ExitCode
from digest.delivery.runs import RunStatus
from digest.delivery.sender import SendReport
from digest.models import BuildResult, FeedStatus, PageSource
from digest.publish import NotSent
from digest.scheduler.fire_time import RunOutcome

FURNITURE_STAGE = "clean"
REPEAT_STAGE = "dedupe"


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def _folder(path: Path) -> str:
    return f"{path}/"


def build_exit_code(result: BuildResult) -> ExitCode:
    """1 when every feed failed (the edition holds nothing new from them), 3 on any other warning."""
    fetched = [feed for feed in result.feeds if feed.status is not FeedStatus.NOT_FETCHED]
    if fetched and all(feed.status is FeedStatus.FAILED for feed in fetched):
        return ExitCode.FAILED
    return ExitCode.WARNINGS if result.warnings else ExitCode.DONE


def build_summary(result: BuildResult, out_dir: Path, *, draft: bool) -> str:
    """'18 stories from 2 feeds and 3 seed documents; 61 lines of page furniture dropped; …'."""
    contributing = sum(1 for feed in result.feeds if feed.documents)
    origins = []
    if result.feeds:
        origins.append(_count(contributing, "feed"))
    if result.seed_documents or not result.feeds:
        origins.append(_count(result.seed_documents, "seed document"))
    parts = [f"{_count(len(result.edition.stories), 'story', 'stories')} from {' and '.join(origins)}"]
    stages = [drop.stage for drop in result.drops]
    if furniture := stages.count(FURNITURE_STAGE):
        parts.append(f"{_count(furniture, 'line')} of page furniture dropped")
    if repeats := stages.count(REPEAT_STAGE):
        parts.append(f"{_count(repeats, 'repeat')} merged")
    if result.pages:
        pages = Counter(note.source for note in result.pages)
        parts.append(
            f"linked pages read for full text: {pages[PageSource.FETCHED]} fetched, {pages[PageSource.REUSED]} "
            f"reused, {pages[PageSource.REFUSED]} refused (feed text kept)"
        )
    failed = [feed for feed in result.feeds if feed.status is FeedStatus.FAILED]
    if failed:
        parts.append(f"{len(failed)} of {_count(len(result.feeds), 'feed')} failed (see the warnings)")
    if draft:
        parts.append(f"draft written to {_folder(out_dir)} (nothing sent or archived yet)")
    else:
        parts.append(f"written to {_folder(out_dir)}")
    return "; ".join(parts)


def build_json(result: BuildResult, paths: Sequence[Path], *, draft: bool) -> dict[str, Any]:
    """The command's own keys of `digest build --json` (README: "Output for scripts")."""
    edition = result.edition
    stages = [drop.stage for drop in result.drops]
    return {
        "edition": {
            "name": edition.name,
            "title": edition.title,
            "date": edition.date.isoformat(),
            "stories": len(edition.stories),
        },
        "files": [str(path) for path in paths],
        "draft": draft,
        "sources": {
            "seed_documents": result.seed_documents,
            "feeds": [
                {"url": f.url, "name": f.name, "status": f.status.value, "documents": f.documents, "message": f.message}
                for f in result.feeds
            ],
        },
        "pages": {source.value: sum(1 for note in result.pages if note.source is source) for source in PageSource},
        "dropped": {
            "furniture_lines": stages.count(FURNITURE_STAGE),
            "repeats": stages.count(REPEAT_STAGE),
            "other": len(stages) - stages.count(FURNITURE_STAGE) - stages.count(REPEAT_STAGE),
        },
    }


SEND_COUNTS = ("sent", "failed", "deferred", "suppressed", "pending", "sending", "uncertain")


def send_exit_code(report: SendReport | NotSent) -> ExitCode:
    """1 when stopped before the end, 3 when a reader was not reached (failed or to be retried).

    An edition not sent on purpose (nothing new, no stories) is done: 0.
    """
    if isinstance(report, NotSent):
        return ExitCode.DONE
    if report.interrupted:
        return ExitCode.FAILED
    counts = report.counts
    if counts.get("failed") or counts.get("deferred") or counts.get("uncertain"):
        return ExitCode.WARNINGS
    return ExitCode.DONE


def send_summary(report: SendReport | NotSent, *, title: str, kind: str, mailed: bool, to: str | None = None) -> str:
    """One line: who got the edition, how, and what is left to do.

    ``mailed`` is False when the transport writes files (a dry run, or no smtp: configured).
    """
    if isinstance(report, NotSent):
        return f"{title}: nothing sent: {report.reason}"
    counts: Mapping[str, int] = report.counts
    sent = counts.get("sent", 0)
    readers = sum(n for status, n in counts.items() if status != "uncertain")
    if kind == "dry-run":
        text = f"{title}: dry run, {_count(sent, 'message')} written to the {report.transport}; nobody was mailed"
    elif not mailed:
        text = (
            f"{title}: messages for {sent} of {_count(readers, 'reader')} written to the {report.transport} "
            "(no smtp: configured, nobody was mailed)"
        )
    elif kind == "test":
        text = f"{title}: test copy {'sent' if sent else 'NOT sent'} to {to} via {report.transport}"
    else:
        text = f"{title}: sent to {sent} of {_count(readers, 'reader')} via {report.transport}"
    notes = []
    if failed := counts.get("failed", 0):
        notes.append(f"{failed} refused by their mail server")
    if deferred := counts.get("deferred", 0):
        if report.retry_at is not None and report.give_up_at is not None:
            notes.append(
                f"{deferred} still pending (deferred by their server): `digest send` or `digest run` tries again "
                f"from {report.retry_at:%Y-%m-%d %H:%M} UTC until {report.give_up_at:%Y-%m-%d %H:%M} UTC"
            )
        else:
            notes.append(f"{deferred} to retry later")
    if suppressed := counts.get("suppressed", 0):
        notes.append(f"{suppressed} unsubscribed, skipped")
    if uncertain := counts.get("uncertain", 0):
        notes.append(f"{uncertain} may have received it twice")
    if report.interrupted:
        left = counts.get("pending", 0) + counts.get("sending", 0)
        notes.append(f"stopped early with {left} not yet sent: run the same command again to finish")
    return text + ("; " + "; ".join(notes) if notes else "")


def send_json(report: SendReport | NotSent, *, kind: str) -> dict[str, Any]:
    if isinstance(report, NotSent):
        return {"kind": kind, "sent": False, "reason": report.reason}
    return {
        "kind": kind,
        "sent": True,
        "transport": report.transport,
        "counts": {status: report.counts.get(status, 0) for status in SEND_COUNTS},
        "interrupted": report.interrupted,
        "pending": report.pending,
        "retry_at": report.retry_at.isoformat() if report.retry_at else None,
        "give_up_at": report.give_up_at.isoformat() if report.give_up_at else None,
    }


RUN_WORDS = {
    RunStatus.SENT: "sent",
    RunStatus.STARTED: "stopped before every reader had it (run again to finish)",
    RunStatus.SKIPPED_LATE: "skipped, too late",
    RunStatus.SKIPPED_NO_NEW: "nothing new, not sent",
    RunStatus.FAILED: "FAILED",
    RunStatus.IN_REVIEW: "in review",
    RunStatus.HELD: "held",
}


DETAILED = (RunStatus.FAILED, RunStatus.SKIPPED_LATE, RunStatus.IN_REVIEW, RunStatus.HELD)
"""Statuses whose summary says why (or what the editors must do)."""


def run_summary(outcomes: Sequence[RunOutcome]) -> tuple[str, ExitCode]:
    """`digest run --once`: each run it did in a few words, and 1 when one failed or stopped early."""
    if not outcomes:
        return "nothing due now", ExitCode.DONE
    parts = [
        f"{o.name} due {o.scheduled_for:%Y-%m-%d %H:%M %Z}: {RUN_WORDS[o.status]}"
        + (f" ({o.detail})" if o.status in DETAILED and o.detail else "")
        for o in outcomes
    ]
    bad = any(o.status in (RunStatus.FAILED, RunStatus.STARTED) for o in outcomes)
    return "; ".join(parts), ExitCode.FAILED if bad else ExitCode.DONE


def run_json(outcome: RunOutcome) -> dict[str, Any]:
    report = outcome.report
    return {
        "edition": outcome.name,
        "scheduled_for": outcome.scheduled_for.isoformat(),
        "status": outcome.status.value,
        "detail": outcome.detail,
        "counts": {status: report.counts.get(status, 0) for status in SEND_COUNTS} if report else None,
    }
