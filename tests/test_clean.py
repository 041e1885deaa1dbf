from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.models import BlockKind, Document, DropReason, Furniture, SourceRef
from digest.stages.clean import clean_document
from digest.stages.clean.lines import _is_title_case, parse_date_line
from digest.stages.text import STOPWORDS

PROSE = (
    "The ministry confirmed on Monday that the shipment of rifles had been approved in March, "
    "despite objections raised by two members of the committee."
)


def doc(text: str) -> Document:
    return Document("page.txt", text, SourceRef("Example", document="page.txt"))


def reasons(text: str) -> dict[str, str]:
    return {d.text: d.explanation for d in clean_document(doc(text)).drops}


def test_button_written_twice_is_dropped():
    assert "twice" in reasons(f"{PROSE}\n\nPrint this pagePrint this page\n\n{PROSE} Again.")["Print this pagePrint this page"]


def test_caption_with_credit_and_its_bare_twin_are_dropped():
    text = f"{PROSE}\n\nA man walks past a burned car in Huwara\nA man walks past a burned car in HuwaraCredit: A. Photographer\n\n{PROSE}"
    found = reasons(text)
    assert found["A man walks past a burned car in HuwaraCredit: A. Photographer"] == "photo caption or credit"
    assert "caption" in found["A man walks past a burned car in Huwara"]


def test_read_more_link_credits_the_publisher_and_closes_the_story():
    cleaned = clean_document(doc(f"{PROSE}\n\nRead more: The Guardian\n\nA second post begins here and talks about something else entirely."))
    assert cleaned.blocks[0].credit == "The Guardian"
    assert cleaned.blocks[1].starts_story


def test_dateline_opens_a_story_and_names_the_agency():
    cleaned = clean_document(doc("RAMALLAH (WAFA) — Dozens of residents gathered on Friday to protest the closure of the road."))
    assert cleaned.blocks[0].starts_story and cleaned.blocks[0].credit == "WAFA"


def test_line_in_another_script_is_dropped_but_a_name_inside_english_is_kept():
    text = f"{PROSE}\n\nمقالات ذات صلة\n\nThe mayor, Ahmad (أحمد), said the road would stay closed for a week at least."
    found = reasons(text)
    assert "another script" in found["مقالات ذات صلة"]
    assert all("أحمد" not in t for t in found)


def test_line_in_another_language_is_dropped():
    text = f"{PROSE}\n\nLa comunidad de los trabajadores se reunió en la plaza para pedir que no se cierre la fábrica.\n\n{PROSE}"
    assert "language (es)" in reasons(text)["La comunidad de los trabajadores se reunió en la plaza para pedir que no se cierre la fábrica."]


def test_tail_list_of_headlines_is_dropped():
    text = f"{PROSE}\n\nMore from our site\n\nFive Things to Know About the Budget\nHow the Heatwave Changed Farming\nWhy Rents Keep Rising in the Capital"
    found = reasons(text)
    assert found["How the Heatwave Changed Farming"] == "list of other headlines or links"


def test_short_lines_inside_an_article_are_kept():
    text = f"{PROSE}\n\nThe incidents this week:\n\n{PROSE} Later.\n\nWhat comes next\n\n{PROSE} Finally."
    cleaned = clean_document(doc(text))
    kept = {b.text: b.kind for b in cleaned.blocks}
    assert "The incidents this week:" in kept
    assert kept["What comes next"] is BlockKind.HEADING


def test_repeated_paragraph_is_kept_once():
    cleaned = clean_document(doc(f"{PROSE}\n\n{PROSE}"))
    assert [b.text for b in cleaned.blocks] == [PROSE]
    assert cleaned.drops[0].reason is DropReason.DUPLICATE_LINE
    assert cleaned.drops[0].explanation == "duplicate of line 1"


def test_headline_date_is_read_from_the_line_under_it():
    cleaned = clean_document(doc(f"Arms sales to the region rose sharply last year\nMay 22, 2013\n\n{PROSE}"))
    assert cleaned.blocks[0].kind is BlockKind.HEADING
    assert cleaned.blocks[0].published == date(2013, 5, 22)


def test_date_lines():
    assert parse_date_line("June 24, 2024") == date(2024, 6, 24)
    assert parse_date_line("Posted on 3 April 2026") == date(2026, 4, 3)
    assert parse_date_line("The vote took place on June 24, 2024") is None
    assert parse_date_line("Weapons sales escalate") is None


@given(st.lists(st.text(min_size=0, max_size=80), max_size=30))
def test_every_line_is_either_kept_verbatim_or_dropped_with_a_reason(lines):
    text = "\n".join(lines)
    cleaned = clean_document(doc(text))
    source_lines = text.splitlines()
    for block in cleaned.blocks:
        assert block.text in source_lines[block.line - 1]
    for drop in cleaned.drops:
        assert isinstance(drop.reason, DropReason) and drop.explanation
    accounted = {b.line for b in cleaned.blocks} | {d.line for d in cleaned.drops}
    non_empty = {i for i, line in enumerate(source_lines, start=1) if line.strip()}
    assert accounted == non_empty


def test_continue_reading_link_credits_nobody():
    cleaned = clean_document(doc(f"{PROSE}\n\nContinue reading..."))
    assert cleaned.drops[0].reason is DropReason.READ_MORE
    assert cleaned.drops[0].explanation == "'read more' link"
    assert cleaned.blocks[0].credit is None


def test_agency_and_photographer_credit_in_parentheses_is_a_caption():
    caption = "Soldiers inspect a damaged police station in Sderot on Oct. 8, 2023. (Reuters/Ronen Zvulun)"
    assert reasons(f"{PROSE}\n\n{caption}")[caption] == "photo caption or credit"


@pytest.mark.parametrize("caption", [
    "Barrister Sarah Phillimore speaking to NTD's Lee Hall on Sep. 26, 2023. (NTD)",
    "Omer Neutra is shown during a family vacation in Ariz. in 2015. (Neutra family via AP)",
    "A still from astronomy camera footage shows the first stage of the rocket on Nov. 21, 2023. "
    "(Byun Yong-Ik/Yonsei University via Reuters/Screenshot via The Epoch Times)",
    "Undated screenshot of Rosalind Franklin Laboratory. (Screenshot Department of Health and Social Care (DHSC)/ YouTube)",
    "(Courtesy of ICHI Inc, Japan)",
])
def test_a_caption_ending_in_a_credit_in_parentheses_is_dropped(caption):
    assert reasons(f"{PROSE}\n\n{caption}")[caption] == "photo caption or credit"


@pytest.mark.parametrize("aside", [
    "We salute humanitarian ideas like this toward an oppressed people. (RT, Sept. 15)",
    "We will never know who tried to edit the page. (The family denies any involvement.)",
    "The ministry said the talks would resume on Monday. (Reporting by Ali Sawafta; Editing by Mark Heinrich)",
    "The vote was delayed until the spring. (He was not asked about it again)",
])
def test_an_aside_or_citation_in_parentheses_is_no_credit(aside):
    assert aside not in reasons(f"{PROSE}\n\n{aside}")


@given(st.lists(st.sampled_from(["The", "the", "of", "Of", "Gaza", "gaza", "UN", "an", "Arms", "sales", "İzmir", "é"]),
                max_size=30))
def test_title_case_counts_capitalised_content_words(line_words):
    content = [w for w in line_words if len(w) > 2 and w.lower() not in STOPWORDS]
    capitalised = [w for w in content if w[0].isupper()]
    assert _is_title_case(tuple(line_words)) == (len(content) >= 2 and len(capitalised) >= 0.7 * len(content))


def test_lines_that_were_links_are_dropped_and_a_read_more_credit_keeps_its_reason():
    promo = "Get our morning and afternoon news emails, free app or daily news podcast"
    credit = "Read more: The Independent"
    text = f"{PROSE}\n\n{promo}\n\n{PROSE} Again.\n\n{credit}"
    document = Document("entry", text, SourceRef("Feed"), "Ministry approved rifles",
                        link_lines=frozenset({promo, credit}))
    cleaned = clean_document(document)
    reasons = {d.text: d.reason for d in cleaned.drops}
    assert reasons[promo] is DropReason.LINK
    assert reasons[credit] is DropReason.READ_MORE_CREDITING
    assert {d.text: d.explanation for d in cleaned.drops}[credit] == "'read more' link (credits The Independent)"
    assert [b.text for b in cleaned.blocks] == [PROSE, f"{PROSE} Again."]


def test_a_wordpress_feed_footer_is_furniture_and_a_sentence_about_a_post_is_not():
    footer = "The post Google Activists Circulated Internal Petition on Israel Ties appeared first on The Intercept."
    story = "The post office in the village was the first building the soldiers searched on Monday morning."
    found = reasons(f"{PROSE}\n\n{footer}\n\n{story}")
    assert found[footer] == "feed footer ('The post … appeared first on …')"
    assert story not in found


def test_a_name_under_any_share_or_sign_up_prompt_is_a_byline_not_a_headline():
    """The prompt's wording does not matter: a doubled button label and a row of share links are both
    the interface's furniture, and a bare name next to either is the story's byline."""
    for prompt in ("Share on Facebook Twitter", "ShareShare"):
        cleaned = clean_document(doc(f"{prompt}\nJane Smith\n\n{PROSE}\n\n{PROSE} Again."))
        reasons = {d.text: d.reason for d in cleaned.drops}
        assert reasons[prompt].furniture is Furniture.INTERFACE
        assert reasons["Jane Smith"] is DropReason.BYLINE
        assert [b.text for b in cleaned.blocks] == [PROSE, f"{PROSE} Again."]
        assert all(b.kind is BlockKind.PARAGRAPH for b in cleaned.blocks)


def test_every_drop_reason_reads_as_before_in_explain():
    """--explain prints each reason's words; a reason naming something fills it in from the drop's detail."""
    assert DropReason.OTHER_LANGUAGE.words.format(detail="es") == "line in another language (es) than the document"
    assert len({reason.words for reason in DropReason}) == len(DropReason)
    assert {reason.stage for reason in DropReason} == {"clean", "dedupe", "summarize"}


def test_character_references_left_by_a_feed_that_escaped_twice_are_read_as_characters():
    # The Wall Street Journal's descriptions, 7 October 2023 (real_entries): shown as written, a reader saw "&#x27;"
    text = ("Israeli civilians, soldiers taken hostage &#x2022; Hamas says attacks are only the beginning\n\n"
            "It&#x27;s the hottest gift this holiday season, and AT&T&apos;s &quot;deal&quot; R&D is &notareference; here.")
    cleaned = clean_document(doc(text))
    assert [b.text for b in cleaned.blocks] == [
        "Israeli civilians, soldiers taken hostage • Hamas says attacks are only the beginning",
        "It's the hottest gift this holiday season, and AT&T's \"deal\" R&D is &notareference; here.",
    ]


def test_a_link_line_escaped_twice_is_still_known_as_a_link():
    text = f"Don&#x27;t miss our newsletter, sign up today for free\n\n{PROSE}"
    cleaned = clean_document(Document("e", text, SourceRef("Feed"), "Title", link_lines=frozenset(
        {"Don&#x27;t miss our newsletter, sign up today for free"})))
    assert [b.text for b in cleaned.blocks] == [PROSE]


def test_a_newsletters_list_of_its_other_items_is_dropped():
    # Financial Times entries, October-November 2023 (real_entries): the whole summary read
    # "Also in today’s newsletter, two Swedes killed in Brussels terror attack and Rolls-Royce to cut 2,500 jobs"
    found = reasons(
        "Also in today’s newsletter, two Swedes killed in Brussels terror attack and Rolls-Royce to cut 2,500 jobs\n\n"
        "Also in this newsletter: UK inflation fall, China upturn, wind industry turbulence\n\n"
        f"{PROSE}\n\nAlso in the room were two ministers, who said nothing during the meeting."
    )
    assert set(found) == {
        "Also in today’s newsletter, two Swedes killed in Brussels terror attack and Rolls-Royce to cut 2,500 jobs",
        "Also in this newsletter: UK inflation fall, China upturn, wind industry turbulence",
    }
    assert all(why == "list of other headlines or links" for why in found.values())
