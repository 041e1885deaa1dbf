from digest.models import Document, SourceRef
from digest.stages.clean import clean_document
from digest.stages.split import _PERSONAL_SPELLINGS, PERSONAL_WORDS, split_document

SETTLERS = (
    "Settlers from a nearby outpost attacked farmers picking olives near the village on Monday, residents said.\n\n"
    "The settlers beat two farmers and set fire to olive trees, and soldiers watched the attack without intervening.\n\n"
    "Farmers in the village said the olive harvest had been attacked by settlers three times this month."
)
CONCERT = (
    "The orchestra opened its winter season with a programme of Brahms symphonies conducted by a young guest.\n\n"
    "Critics praised the strings and the conductor, and the symphony hall was sold out for all three concerts."
)
ESSAY = (
    "I remember the first time my mother took me to the sea. I was six, and I thought the water went on forever.\n\n"
    "We still go back every summer, and I still look for the shells she taught me to find on that beach."
)
REPORT = (
    "NABLUS (WAFA) — Israeli forces raided the old city before dawn on Tuesday and arrested four young men, witnesses said.\n\n"
    "The forces fired tear gas at residents who gathered in the streets, the Palestine Red Crescent said."
)


def split(text: str, publisher: str = "Example"):
    return split_document(clean_document(Document("page.txt", text, SourceRef(publisher, document="page.txt"))))


def test_untitled_posts_on_different_subjects_become_separate_stories():
    stories = split(f"{SETTLERS}\n\n{CONCERT}")
    assert [s.paragraphs[0][:12] for s in stories] == ["Settlers fro", "The orchestr"]


def test_one_article_with_a_subheading_stays_one_story():
    text = f"Settlers attack olive harvest across the West Bank\n\n{SETTLERS}\n\nA pattern\n\n" + SETTLERS.replace("Monday", "Friday")
    stories = split(text)
    assert len(stories) == 1
    assert stories[0].title == "Settlers attack olive harvest across the West Bank"
    assert "A pattern" not in stories[0].paragraphs


def test_headline_opens_a_new_story():
    stories = split(f"{SETTLERS}\n\nOrchestra opens its winter season with Brahms\n\n{CONCERT}")
    assert len(stories) == 2 and stories[1].title == "Orchestra opens its winter season with Brahms"


def test_personal_post_is_not_merged_into_a_neighbouring_wire_report():
    stories = split(f"{REPORT}\n\n{ESSAY}")
    assert stories[0].sources[0].name == "WAFA"
    assert stories[0].paragraphs == tuple(REPORT.split("\n\n"))
    assert all(s.sources[0].name == "Example" for s in stories[1:])


def test_personal_essay_returning_to_its_subject_stays_one_story():
    essay = (
        "I remember the first time my mother took me to the sea in Gaza. I was six, and I thought the water "
        "went on forever.\n\nWe went back to the sea every summer after that, and my mother taught me to find "
        "shells on the beach near the harbour."
    )
    assert len(split(f"{REPORT}\n\n{essay}")) == 2


def test_footnote_stays_with_its_post_and_lead_in_with_what_follows():
    text = f"{SETTLERS}\n\n*updated with the council's figures\n\nThe week in brief:\n\n{CONCERT}"
    stories = split(text)
    assert stories[0].paragraphs[-1] == "*updated with the council's figures"
    assert stories[1].paragraphs[0] == "The week in brief:"


def test_story_ids_are_stable():
    assert [s.id for s in split(SETTLERS)] == [s.id for s in split(SETTLERS)]


def feed_entry(text: str, title: str):
    return split_document(clean_document(Document("entry-1", text, SourceRef("Feed", document="entry-1"), title)))


def test_a_feed_entry_keeps_its_own_title_and_a_standfirst_stays_text():
    stories = feed_entry(
        "On Saturday, the senator joined a chorus of critics\n\n"
        "The senator added his voice to a rising chorus questioning the transfer of munitions abroad.",
        "Senator condemns arms transfer",
    )
    assert len(stories) == 1 and stories[0].title == "Senator condemns arms transfer"
    assert stories[0].paragraphs[0] == "On Saturday, the senator joined a chorus of critics"


def test_a_feed_entry_whose_text_is_all_furniture_is_still_its_headline():
    stories = feed_entry("Protesters gather in the city centre. (Reuters/Jane Doe)", "Protesters block traffic in Toronto")
    assert [(s.title, s.paragraphs) for s in stories] == [("Protesters block traffic in Toronto", ())]


def test_personal_words_are_found_in_any_capitalisation_and_only_so():
    # _PERSONAL_SPELLINGS holds every ASCII capitalisation: that is enough only if no other
    # character lower-cases into a letter of a personal word
    letters = set("".join(PERSONAL_WORDS))
    assert [c for c in map(chr, range(128, 0x110000)) if c.lower() in letters] == []
    assert {w for w in _PERSONAL_SPELLINGS if w.lower() not in PERSONAL_WORDS} == set()
    assert {"I", "We", "YOUR", "oUr"} <= _PERSONAL_SPELLINGS


def test_a_feed_entry_is_one_story_whatever_its_subjects():
    # The Guardian's live blog of 24 September 2022 (real_feeds/guardian_world_2022-09.xml): its
    # last paragraph, a quotation on another subject, was cut off as a story of its own, with
    # "But if you get into the Russian army, sabotage…" for a headline.
    stories = feed_entry(
        "Arrests made in 32 cities at rallies against mobilisation; border crossings from Russia to "
        "Finland have doubled and 10km queue reported at frontier with Georgia. This blog is now closed\n\n"
        "Russian forces launched new strikes on Saturday, targeting infrastructure facilities, "
        "Zaporizhzhia city’s administrative head, Oleksandr Starukh, said via his Telegram channel.\n\n"
        "One missile hit an apartment building causing a fire, killing one person and injuring seven others.\n\n"
        "But if you get into the Russian army, sabotage any activity of the enemy, hinder any Russian "
        "operations, provide us with any important information about the occupiers – their bases, "
        "headquarters, warehouses with ammunition. And at the first opportunity, switch to our positions.",
        "Russia-Ukraine war: at least 730 protesters detained in Russia – as it happened",
    )
    assert [s.title for s in stories] == ["Russia-Ukraine war: at least 730 protesters detained in Russia – as it happened"]
    assert len(stories[0].paragraphs) == 4


def test_a_long_subheading_in_a_feed_entry_opens_no_story():
    # The Guardian, 25 November 2023: a standfirst line of six words or more, read as a headline, made a second
    # story headed "Defensive backs coach Brent Vieselmeyer also let go on Friday".
    stories = feed_entry(
        "Washington fire defensive coordinator after 45-10 loss in Dallas\n\n"
        "Commanders’ defense ranks 29th among 32 teams in NFL\n\n"
        "Defensive backs coach Brent Vieselmeyer also let go on Friday\n\n"
        "The Washington Commanders fired defensive coordinator Jack Del Rio and defensive backs coach "
        "Brent Vieselmeyer on Friday.",
        "Washington Commanders sack Jack Del Rio after blowout loss to Cowboys",
    )
    assert [s.title for s in stories] == ["Washington Commanders sack Jack Del Rio after blowout loss to Cowboys"]
    assert stories[0].paragraphs[-1].startswith("The Washington Commanders fired")
