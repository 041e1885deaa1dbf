"""A fixed, realistic edition for rendering, message and export tests.

Outlets, places and events are invented (example.org addresses) so no real
publisher is quoted. It covers what rendering must get right: a Hebrew and an
Arabic source name, a title with quotes and an ampersand, a story with two
sources (one without URL or date), a theme with no stories, and Also noted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from digest.models import Edition, EditionStory, Section, SourceRef

CLOCK = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)

ARMS_MONITOR = SourceRef(
    name="Arms Trade Monitor",
    url="https://monitor.example.org/2026/11/licences-renewed",
    published=date(2026, 11, 20),
    document="feed-arms-monitor-0141",
)
CAMPAIGN_BULLETIN = SourceRef(name="Campaign Bulletin", document="seed-003-bulletin")
PARLIAMENT_WATCH = SourceRef(
    name="Parliament Watch",
    url="https://parliament-watch.example.org/committees/drone-exports?ref=rss&lang=en",
    published=datetime(2026, 11, 19, 14, 30, tzinfo=UTC),
    document="feed-parliament-watch-0077",
)
FIELD_JOURNAL_HE = SourceRef(
    name="יומן השטח",
    url="https://field-journal.example.org/he/olive-grove-fire",
    published=date(2026, 11, 21),
    document="feed-field-journal-0310",
)
OBSERVATORY_AR = SourceRef(
    name="مرصد الضفة",
    url="https://observatory.example.org/ar/shepherds",
    published=date(2026, 11, 18),
    document="feed-observatory-0052",
)
RIGHTS_REVIEW = SourceRef(
    name="Rights Review",
    url="https://rights-review.example.org/detention-report",
    published=date(2026, 11, 17),
    document="seed-005-rights-review",
)


def sample_edition() -> Edition:
    arms = Section(
        theme="arms-exports",
        title="Arms exports",
        description="Weapons sales, military exports and the companies and governments behind them.",
        stories=(
            EditionStory(
                id="arms-licences-renewed",
                title='"Business as usual": arms & ammunition licences renewed',
                summary=(
                    "The trade ministry renewed 14 export licences for small arms and ammunition last week.",
                    'A spokesperson called the renewals "routine" & said every licence had been reviewed.',
                    "Campaigners said the licences cover rifles and ammunition used in recent raids.",
                ),
                sources=(ARMS_MONITOR, CAMPAIGN_BULLETIN),
                theme="arms-exports",
                reason="arms-exports: 6.2 per 100 words (min 3.0)",
            ),
            EditionStory(
                id="drone-exports-review",
                title="Drone exports to be reviewed after committee report",
                summary=(
                    "A parliamentary committee has asked the government to review all drone exports.",
                    "The report found that export decisions were taken without human rights assessments.",
                ),
                sources=(PARLIAMENT_WATCH,),
                theme="arms-exports",
                reason="arms-exports: 4.8 per 100 words (min 3.0)",
            ),
        ),
    )
    settlers = Section(
        theme="settler-violence",
        title="Settler violence",
        description="Attacks by settlers on Palestinians, their land, homes, livestock and harvests.",
        stories=(
            EditionStory(
                id="olive-grove-fire",
                title="Olive grove set on fire during the harvest",
                summary=(
                    "Settlers set fire to an olive grove on Friday morning, the village council said.",
                    "Farmers said about 300 trees were burned before firefighters arrived.",
                ),
                sources=(FIELD_JOURNAL_HE,),
                theme="settler-violence",
                reason="settler-violence: 7.5 per 100 words (min 3.0)",
            ),
            EditionStory(
                id="shepherds-tents",
                title="Shepherds' tents torn down in the valley",
                summary=(
                    "Two families of shepherds lost their tents and water tanks in a night-time attack.",
                    "Residents said the attackers came from a nearby outpost.",
                    "No arrests have been reported.",
                ),
                sources=(OBSERVATORY_AR,),
                theme="settler-violence",
                reason="settler-violence: 5.1 per 100 words (min 3.0)",
            ),
        ),
    )
    solidarity = Section(
        theme="solidarity",
        title="Solidarity",
        description="Protests, boycotts, refusals and other acts of support for Palestinians around the world.",
        stories=(),
    )
    also_noted = Section(
        theme="also-noted",
        title="Also noted",
        description="More on this edition's themes than its sections had room for, then the stories nearest to one.",
        stories=(
            EditionStory(
                id="licence-review",
                title="Ministers to review export licences for drone parts",
                summary=("Ministers will review the export licences granted for drone components this year.",),
                sources=(RIGHTS_REVIEW,),
                theme="arms-exports",
                reason="Arms exports 91% (export licences +1.8)",
            ),
            EditionStory(
                id="detention-report",
                title="Report documents detention conditions",
                summary=(
                    "A new report documents the conditions of 40 people held without charge.",
                    "The authors call for independent monitors to be given access.",
                ),
                sources=(RIGHTS_REVIEW,),
                theme=None,
                reason="fits no theme (best: solidarity 1.2 < 3.0)",
                near_theme="solidarity",
            ),
        ),
    )
    return Edition(
        name="weekly",
        title="The Weekly Digest",
        date=CLOCK,
        sections=(arms, settlers, solidarity),
        also_noted=also_noted,
        description="Arms exports, settler violence and solidarity, in brief.",
    )
