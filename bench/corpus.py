"""A synthetic feed corpus for the build benchmarks: N feeds x M entries as RSS 2.0 files.

    .venv/bin/python bench/corpus.py OUT_DIR [--feeds 500] [--entries 20] [--seed 5]

Everything comes from templates and vocabularies drawn with random.Random(seed),
so one seed always writes the same bytes. What the pipeline meets in real feeds:

- bodies of 2-8 KB of HTML in <p> paragraphs (content:encoded), a teaser in
  <description>, a title, a pubDate in the week before NOW, a GUID;
- a mix of on-theme stories (arms exports, settler violence, solidarity:
  the themes of the bundled schedule.yaml) and off-theme ones (city
  council, weather, football, technology, markets, culture, health); some
  outlets lean to a theme and say so in the config's theme hints, a few
  have an include filter;
- page furniture inside the HTML: share and subscribe prompts, bylines,
  photo captions with credits, "Read more" links, tag lines, copyright
  lines, lists of related headlines, the odd line in another language;
- the same wire story run by several outlets: some verbatim, most lightly
  edited (own headline, "said on Tuesday" for "said Tuesday", "told
  reporters" for "said", the last paragraph cut).

Sentences are built from many short slots (times, numbers, names, places,
attributions), so independently written stories rarely share five words in
a row, as in real news copy; only the planted wire copies are duplicates.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
"""The clock the benchmarks build at: every pubDate falls in the week before it."""

WIRE_SHARE = 0.08
"""Share of entries that rerun a wire story (edited or verbatim)."""
VERBATIM_SHARE = 0.3
"""Of those, the share printed word for word."""

FIRST_NAMES = (
    "Amira Yusuf Leila Omar Sarah David Hannah Mahmoud Noura Daniel Rania Tomas Ines Karim Maya "
    "Jonas Aisha Elena Samir Ruth Farid Clara Hadi Nadia Peter Lina Ahmad Sofia Ibrahim Grace"
).split()
LAST_NAMES = (
    "Haddad Cohen Nasser Levy Khalil Morgan Saleh Berger Aziz Okafor Rahman Lindqvist Darwish "
    "Fischer Barakat Moreau Hamdan Novak Jaber Schulz Awad Keller Mansour Rossi Qasem Weber"
).split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
AGENCIES = ("Reuters", "AP", "AFP", "Anadolu", "WAFA", "dpa")
TIMES = (
    "on {day}", "early on {day}", "late on {day}", "on {day} morning", "on {day} evening", "overnight",
    "last week", "over the weekend", "earlier this month", "on {date} November", "at dawn on {day}",
    "shortly after midnight", "in the afternoon", "for the second day running", "this week",
)
OPENERS = (
    "", "", "", "", "Meanwhile, ", "However, ", "Separately, ", "Earlier, ", "At the same time, ",
    "Since then, ", "For now, ", "In a statement, ", "Later, ", "By contrast, ", "Once again, ",
)
TAILS = (
    "", "", "", ", {role} said", ", according to {role}", ", {name} told local media", ", witnesses said",
    ", a statement said", ", officials confirmed", " for the {nth} time this year",
    ", {n} days after the last incident", ", in a move criticised by {role}", ", local reports said",
    ", {name} said in an interview", " despite repeated warnings",
)
TAGS = ("said", "told reporters", "added", "said in a statement", "said in an interview", "wrote online")
NTH = ("second", "third", "fourth", "fifth", "sixth")
MODIFIERS = (
    "again", "also", "now", "still", "reportedly", "apparently", "really", "even", "clearly", "simply",
    "openly", "quietly", "only", "recently", "repeatedly", "allegedly", "then", "later", "already", "once",
    "mostly", "largely", "partly", "directly", "briefly", "suddenly", "finally", "formally", "publicly", "visibly",
)
"""Words slipped into stock phrases: independent stories share a phrase, rarely five words in a row."""
SUBHEADS = ("Background", "What happens next", "A long campaign", "Reaction", "The figures", "In context")


@dataclass(frozen=True)
class Topic:
    """The vocabulary one kind of story is written from."""

    name: str
    theme: str | None
    """The bundled theme a story of this topic belongs to (None: off-theme)."""
    subjects: tuple[str, ...]
    actions: tuple[str, ...]
    objects: tuple[str, ...]
    places: tuple[str, ...]
    roles: tuple[str, ...]
    quotes: tuple[str, ...]
    counts: tuple[str, ...]
    """Sentences with a number in them ({n})."""
    details: tuple[str, ...]
    headlines: tuple[str, ...]


def _t(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|") if part.strip())


TOPICS = (
    Topic(
        "arms", "arms-exports",
        _t("the government | the defence ministry | a parliamentary committee | the export control agency | "
           "campaigners against the arms trade | the arms company | a consortium of defence firms | "
           "the foreign office | lawyers for the rights groups | the trade minister"),
        _t("approved new export licences for | suspended the sale of | defended the transfer of | "
           "refused to publish figures on | was asked to halt shipments of | signed a contract for | "
           "confirmed a deal to supply | reviewed the licensing of | challenged in court the export of | "
           "disclosed new sales of"),
        _t("fighter jet components | artillery shells | surveillance drones | rifle ammunition | "
           "missile guidance parts | armoured vehicles | military technology | spare parts for warplanes | "
           "small arms | munitions"),
        _t("London | Berlin | Ottawa | Canberra | The Hague | Rome | Madrid | Brussels | Oslo | Paris"),
        _t("a spokesperson for the ministry | the director of an arms trade watchdog | an export lawyer | "
           "a former defence official | a member of parliament | a researcher at a peace institute"),
        _t("These weapons sales must stop until there is an independent investigation | "
           "The licences were granted after a careful assessment of the risks | "
           "We have asked the government to disclose every export licence in full | "
           "There is a clear risk the arms could be used in serious violations of humanitarian law | "
           "The contract complies with national and international law | "
           "No export of military equipment should go ahead while the embargo question is open"),
        _t("{n} export licences for military goods were approved in the last quarter | "
           "the deal is worth about {n} million euros | "
           "{n} shipments of components have left the country since the spring | "
           "only {n} licence applications were refused last year | "
           "the watchdog counted {n} transfers it says breach the treaty"),
        _t("Campaigners say the licences breach the Arms Trade Treaty. | "
           "The company declined to comment on the contract. | "
           "An arms embargo has been debated in parliament twice this year. | "
           "The ministry said each licence is assessed case by case."),
        _t("Arms Exports Questioned After New Licences | Court Hears Challenge to Weapons Sales | "
           "Ministry Defends Fighter Jet Parts Deal | Campaigners Demand Arms Embargo | "
           "Drone Contract Signed Despite Protests | Secret Arms Sales Revealed in Report"),
    ),
    Topic(
        "settlers", "settler-violence",
        _t("a group of settlers | armed settlers from a nearby outpost | masked settlers | "
           "settlers under army protection | dozens of settlers | colonists from the settlement"),
        _t("attacked | set fire to | uprooted | raided | vandalised | stoned | torched | damaged | "
           "assaulted farmers near | threatened families in"),
        _t("olive trees | a shepherd's tent | farmland | homes on the edge of the village | "
           "a water cistern | cars and a school | livestock pens | the olive harvest | grazing land"),
        _t("the village of Turmus Ayya | Masafer Yatta | the Jordan Valley | the village of Huwara | "
           "the South Hebron Hills | Sinjil | al-Mughayyir | Burin | the village of Qusra"),
        _t("the head of the village council | a farmer whose trees were cut | a field researcher | "
           "a local shepherd | a volunteer with a monitoring group | a resident"),
        _t("They came at night and burned everything we had | "
           "We cannot reach our land without being attacked | "
           "The soldiers stood by while the settlers beat us | "
           "Every harvest the attacks get worse | "
           "Our children are afraid to walk to school"),
        _t("at least {n} olive trees were uprooted | {n} people were injured and taken to hospital | "
           "{n} families have left the area since the summer | "
           "the monitoring group recorded {n} settler attacks in October | "
           "{n} sheep were stolen from the pens"),
        _t("Residents said the army did not intervene. | "
           "The outpost was set up on private land two years ago. | "
           "Police said they had opened an investigation. | "
           "The attack was documented by a human rights group."),
        _t("Settlers Attack Village During Olive Harvest | Settler Violence Forces Families Out | "
           "Olive Groves Burned in Night Raid | Shepherds Driven From Grazing Land | "
           "Settlers Torch Cars in West Bank Village | Harvest Season Brings New Attacks"),
    ),
    Topic(
        "solidarity", "solidarity",
        _t("thousands of protesters | dockworkers | students at the university | a coalition of unions | "
           "activists | hundreds of marchers | a group of artists | campaigners for Palestinian rights | "
           "members of the city council"),
        _t("marched in solidarity with | held a vigil for | refused to load cargo bound for the war against | "
           "called for a boycott in support of | set up an encampment in support of | "
           "signed an open letter in solidarity with | staged a sit-in for | rallied in support of"),
        _t("Palestinians in Gaza | the people of Gaza | Palestinian families | Palestinian farmers in the West Bank | "
           "civilians in Gaza | Palestinian journalists"),
        _t("Dublin | Barcelona | Melbourne | Johannesburg | Glasgow | Toronto | Oakland | Genoa | Santiago"),
        _t("one of the organisers | a union representative | a student activist | a protester | "
           "the campaign's coordinator | a spokesperson for the coalition"),
        _t("We will not be silent while Gaza is bombed | "
           "Workers have the power to refuse to handle these weapons | "
           "This boycott is about ending our complicity in occupation | "
           "We stand with Palestinians and we will keep coming back | "
           "The university must divest from companies that profit from apartheid"),
        _t("organisers put the crowd at {n} thousand | a petition gathered {n} thousand signatures | "
           "{n} union branches have backed the boycott | the encampment has lasted {n} days | "
           "{n} people were arrested during the sit-in"),
        _t("The protest ended peacefully in the evening. | "
           "Organisers said the boycott campaign would continue. | "
           "Similar rallies were held in several other cities. | "
           "The union said its members would refuse further shipments."),
        _t("Thousands March in Solidarity With Gaza | Dockworkers Refuse Weapons Cargo | "
           "Students Set Up Encampment Over Divestment | Unions Back Boycott Campaign | "
           "Vigil Held for Palestinian Journalists | Open Letter Calls for Solidarity"),
    ),
    Topic(
        "council", None,
        _t("the city council | the mayor | local residents | the planning committee | "
           "the transport authority | opposition councillors | the housing association"),
        _t("approved plans for | postponed a vote on | published a report on | cut the budget for | "
           "opened a consultation on | announced funding for | rejected a proposal for"),
        _t("a new cycle lane | the library renovation | affordable housing | school meals | "
           "street lighting | the river path | bus services | the market square"),
        _t("Leeds | Bristol | Utrecht | Lyon | Graz | Aarhus | Porto | Ghent"),
        _t("a councillor | the deputy mayor | a local shopkeeper | a planning officer | a resident"),
        _t("This is a good day for the neighbourhood | We have waited years for this decision | "
           "The budget simply does not stretch any further | People deserve a proper consultation"),
        _t("the scheme will cost {n} million | {n} homes are planned on the site | "
           "{n} residents responded to the consultation | the works will take {n} weeks"),
        _t("Parking on the street will be restricted during construction. | The council meets again in January."),
        _t("Council Approves New Cycle Lane | Library Renovation Delayed Again | "
           "Residents Divided Over Housing Plan | Bus Routes Cut in Budget Round"),
    ),
    Topic(
        "weather", None,
        _t("forecasters | the weather service | the national meteorological office | emergency services | "
           "farmers in the region | the coastguard"),
        _t("warned of | recorded | expect more | issued an alert for | prepared for | reported"),
        _t("heavy rain | strong winds | the first frost of the season | record temperatures | "
           "flooding on low roads | snow on higher ground | thick fog"),
        _t("the north coast | the valley | the mountains | the eastern plains | the islands | the capital"),
        _t("a forecaster | a farmer | a fire officer | a ferry operator"),
        _t("Stay away from the coast until the storm passes | It has been the wettest autumn on record | "
           "Drivers should allow extra time on the roads"),
        _t("gusts reached {n} kilometres an hour | {n} millimetres of rain fell in a day | "
           "{n} ferry crossings were cancelled | {n} homes lost power"),
        _t("The warning remains in place until Thursday. | Temperatures will fall below zero overnight."),
        _t("Storm Brings Heavy Rain and Strong Winds | First Frost Arrives Early | "
           "Flood Warnings Issued for Coast | Fog Disrupts Morning Flights"),
    ),
    Topic(
        "football", None,
        _t("the home side | the visitors | the league leaders | the young striker | the manager | "
           "the club's captain | the goalkeeper"),
        _t("beat | drew with | lost narrowly to | scored twice against | came from behind against | "
           "were knocked out by"),
        _t("their city rivals | the defending champions | a side from the second division | "
           "the team at the bottom of the table | last season's finalists"),
        _t("the stadium | a sold-out ground | the national stadium | a rain-soaked pitch"),
        _t("the manager | the captain | a supporter | the club's chairman"),
        _t("The players showed real character in the second half | We have to defend better than that | "
           "It was a special night for the supporters"),
        _t("the winner came in the {n}th minute | {n} thousand fans watched the match | "
           "the club has now gone {n} games unbeaten | the striker has scored {n} goals this season"),
        _t("The referee showed three yellow cards. | The result lifts the club to third in the table."),
        _t("Late Goal Settles City Derby | Champions Held to Draw | Striker Scores Twice in Cup Win | "
           "Manager Under Pressure After Defeat"),
    ),
    Topic(
        "tech", None,
        _t("the software company | researchers | the startup | regulators | the chip maker | "
           "open source developers | the phone maker"),
        _t("released | delayed the launch of | fixed a flaw in | raised funding for | unveiled | "
           "opened an inquiry into"),
        _t("a new battery design | its cloud platform | a faster processor | an encrypted messaging app | "
           "a home robot | its search engine | a satellite internet service"),
        _t("Helsinki | Tallinn | Bangalore | Austin | Shenzhen | Lisbon | Dublin"),
        _t("an analyst | the chief executive | a security researcher | an engineer"),
        _t("The update makes the device twice as fast | Users should install the patch today | "
           "We think this will change how people work"),
        _t("shares rose {n} percent after the announcement | the flaw affected {n} million devices | "
           "the company employs {n} engineers | the round raised {n} million dollars"),
        _t("The patch is available for all versions. | The product goes on sale in the spring."),
        _t("Chip Maker Unveils Faster Processor | Security Flaw Patched in Messaging App | "
           "Startup Raises Funding for Battery Design | Regulators Open Inquiry Into Cloud Deal"),
    ),
    Topic(
        "markets", None,
        _t("investors | the central bank | oil prices | the currency | bond markets | retailers | "
           "the statistics office"),
        _t("pushed up | held steady on | cut its forecast for | reported a rise in | worried about | "
           "raised interest rates despite"),
        _t("inflation | consumer spending | factory output | the housing market | wages | exports of cars | "
           "energy bills"),
        _t("Frankfurt | Tokyo | New York | Zurich | Singapore | Toronto"),
        _t("an economist | a fund manager | the bank's governor | a trader"),
        _t("The outlook for next year remains uncertain | Households are still feeling the squeeze | "
           "We expect rates to stay where they are"),
        _t("the index closed {n} points higher | inflation stood at {n} tenths of a percent above target | "
           "retail sales grew for the {n}th month | {n} thousand jobs were added"),
        _t("The figures will be revised in December. | The bank meets again in six weeks."),
        _t("Central Bank Holds Rates | Inflation Falls for Third Month | Markets Rally on Jobs Data | "
           "Retail Sales Beat Forecasts"),
    ),
    Topic(
        "culture", None,
        _t("the festival | the museum | the orchestra | a first-time novelist | the theatre company | "
           "the film's director | the gallery"),
        _t("opened | announced the programme for | won a prize for | restored | toured | premiered"),
        _t("an exhibition of early photographs | a new opera | a debut novel | a collection of maps | "
           "a season of silent films | a retrospective of a painter"),
        _t("Edinburgh | Venice | Vienna | Krakow | Marseille | Seville"),
        _t("the curator | the director | a critic | the author"),
        _t("We wanted to show work that has never been seen before | The response has been overwhelming | "
           "It took ten years to bring this together"),
        _t("the exhibition shows {n} works | {n} thousand tickets were sold in a day | "
           "the festival runs for {n} days | the novel took {n} years to write"),
        _t("The exhibition runs until March. | The book is published next week."),
        _t("Festival Announces Bold New Programme | Museum Opens Photography Exhibition | "
           "Debut Novel Wins Major Prize | Orchestra Premieres New Opera"),
    ),
    Topic(
        "health", None,
        _t("the health service | hospital doctors | researchers at the university | the health ministry | "
           "nurses | a patients' group"),
        _t("warned about | published a study on | announced a campaign against | reported a fall in | "
           "called for more funding for"),
        _t("winter flu cases | waiting times | a new vaccine | childhood asthma | hospital staffing | "
           "mental health services"),
        _t("the region | the capital | rural areas | the northern hospitals"),
        _t("a doctor | a nurse | the study's lead author | a hospital manager"),
        _t("Staff are working flat out this winter | The results are encouraging but early | "
           "Patients should not wait to seek help"),
        _t("the study followed {n} hundred patients | {n} wards are closed to visitors | "
           "waiting lists grew by {n} thousand | {n} new nurses were hired"),
        _t("Flu vaccines are free for over-65s. | The campaign starts on Monday."),
        _t("Hospitals Brace for Winter Flu | Study Links Air Quality to Asthma | "
           "Waiting Times Rise Again | Nurses Call for More Staff"),
    ),
)
ON_THEME = tuple(topic for topic in TOPICS if topic.theme)
OFF_THEME = tuple(topic for topic in TOPICS if not topic.theme)

SHARE_PROMPTS = (
    "Share this article", "Share on Facebook", "Share on X", "Share via WhatsApp", "Copy link",
    "Subscribe to our newsletter", "Sign up for our daily briefing", "Log in to comment",
    "Follow us on Telegram", "Click here to subscribe", "Comments", "Print this page",
)
FOREIGN_LINES = (
    "Lea también: las últimas noticias de la región y del mundo",
    "اقرأ المزيد من الأخبار على موقعنا",
    "Lire aussi : toutes les actualités de la semaine sur notre site",
)


@dataclass(frozen=True)
class Article:
    title: str
    paragraphs: tuple[str, ...]
    topic: Topic


@dataclass(frozen=True)
class CorpusFeed:
    """One generated feed file and how the bench configures it."""

    name: str
    filename: str
    themes: tuple[str, ...]
    include: tuple[str, ...]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


class Writer:
    """Writes stories from the vocabularies; one Random drives every choice."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def vary(self, phrase: str) -> str:
        """The phrase, most times with a modifier slipped in after one of its words."""
        words = phrase.split(" ")
        if len(words) < 3 or self.rng.random() < 0.3:
            return phrase
        at = self.rng.randrange(1, len(words))
        return " ".join([*words[:at], self.rng.choice(MODIFIERS), *words[at:]])

    def _fill(self, template: str, topic: Topic, day: str) -> str:
        rng = self.rng
        return template.format(
            day=day, date=rng.randint(1, 22), role=rng.choice(topic.roles), name=self.person(),
            nth=rng.choice(NTH), n=rng.randint(2, 400),
        )

    def sentence(self, topic: Topic, place: str, speaker: tuple[str, str], day: str) -> str:
        rng = self.rng
        when = self._fill(rng.choice(TIMES), topic, day)
        tail = self._fill(rng.choice(TAILS), topic, day)
        kind = rng.randrange(20)
        subject, action, obj = (self.vary(rng.choice(options)) for options in (topic.subjects, topic.actions,
                                                                               topic.objects))
        if kind < 4:
            name, role = speaker
            quote = self.vary(rng.choice(topic.quotes))
            if rng.random() < 0.3:
                quote += f". {self.vary(rng.choice(topic.quotes))}"
            return f"“{quote},” {name}, {role}, {rng.choice(TAGS)}."
        if kind < 8:
            return f"{_capitalised(self.vary(self._fill(rng.choice(topic.counts), topic, day)))} {when}{tail}."
        if kind == 8:
            return self.vary(rng.choice(topic.details))
        if kind < 11:
            name, role = speaker
            return f"{name}, {role}, said {subject} had {action} {obj} {when}."
        opener = rng.choice(OPENERS)
        subject = subject if opener else _capitalised(subject)
        where = f" in {place}" if rng.random() < 0.5 else ""
        return f"{opener}{subject} {action} {obj}{where} {when}{tail}."

    def article(self, topic: Topic, target_bytes: int) -> Article:
        rng = self.rng
        place = rng.choice(topic.places)
        speakers = [(self.person(), rng.choice(topic.roles)) for _ in range(2)]
        day = rng.choice(WEEKDAYS)
        paragraphs: list[str] = []
        size = 0
        while size < target_bytes:
            paragraph = " ".join(
                self.sentence(topic, place, rng.choice(speakers), day) for _ in range(rng.randint(2, 4))
            )
            paragraphs.append(paragraph)
            size += len(paragraph) + 7
        title = rng.choice(topic.headlines)
        if rng.random() < 0.5:
            title = f"{title} in {place.removeprefix('the ')}"
        return Article(title, tuple(paragraphs), topic)

    def edited(self, wire: Article) -> Article:
        """The same wire report as another outlet runs it: own headline, small edits, ending cut."""
        rng = self.rng
        paragraphs = list(wire.paragraphs)
        if len(paragraphs) > 3 and rng.random() < 0.6:
            paragraphs.pop()
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(paragraphs))
            text = paragraphs[i]
            for day in WEEKDAYS:
                text = text.replace(f" on {day}", f" {day}")
            if rng.random() < 0.5:
                text = text.replace(" said ", " told reporters ", 1)
            paragraphs[i] = text
        return Article(rng.choice(wire.topic.headlines), tuple(paragraphs), wire.topic)

    def body_html(self, article: Article, outlet: str, other_titles: list[str]) -> str:
        """The article as a publisher's feed carries it: paragraphs and the page around them."""
        rng = self.rng
        topic = article.topic
        parts: list[str] = []
        if rng.random() < 0.3:
            parts.append(f"<p>By {escape(self.person())}</p>")
        if rng.random() < 0.25:
            parts.append(f"<p>{escape(rng.choice(SHARE_PROMPTS))}</p>")
        if rng.random() < 0.4:
            caption = f"{_capitalised(rng.choice(topic.subjects))} in {rng.choice(topic.places)}"
            credit = rng.choice((f"Photo: {rng.choice(AGENCIES)}", f"(Photo: {self.person()})",
                                 "AFP via Getty Images"))
            parts.append(f"<figure><img src=\"https://img.example/{rng.randrange(10**6)}.jpg\" alt=\"\">"
                         f"<figcaption>{escape(caption)} {escape(credit)}</figcaption></figure>")
        for i, paragraph in enumerate(article.paragraphs):
            if i and i % 5 == 0 and rng.random() < 0.3:
                parts.append(f"<h3>{escape(rng.choice(SUBHEADS))}</h3>")
            parts.append(f"<p>{escape(paragraph)}</p>")
        if rng.random() < 0.05:
            parts.append(f"<p>{escape(rng.choice(FOREIGN_LINES))}</p>")
        if rng.random() < 0.2:
            parts.append(f"<p><strong>Read more:</strong> <a href=\"https://{outlet}/more\">"
                         f"{escape(rng.choice(other_titles))}</a></p>")
        if rng.random() < 0.3:
            parts.append(f"<p>Tags: {escape(topic.name)}, {escape(rng.choice(topic.places))}</p>")
        if rng.random() < 0.25:
            links = "".join(f"<li><a href=\"https://{outlet}/{rng.randrange(10**5)}\">{escape(t)}</a></li>"
                            for t in rng.sample(other_titles, 4))
            parts.append(f"<h3>Related posts</h3><ul>{links}</ul>")
        if rng.random() < 0.3:
            parts.append(f"<p>{escape(rng.choice(SHARE_PROMPTS))}</p>")
        if rng.random() < 0.2:
            parts.append(f"<p>© 2026 {escape(outlet)}. All rights reserved.</p>")
        return "\n".join(parts)


OUTLET_WORDS = (
    "Daily Monitor Observer Herald Courier Ledger Dispatch Tribune Review Chronicle Gazette Post "
    "Bulletin Record Wire Journal Examiner Sentinel Voice Report"
).split()
OUTLET_PLACES = (
    "Northern Eastern Western Southern Harbour Valley River Coastal Capital Lakeside Highland "
    "Metro Central Island Border Old Town"
).split()


def _outlet_name(rng: random.Random, taken: set[str]) -> str:
    name = f"The {rng.choice(OUTLET_PLACES)} {rng.choice(OUTLET_WORDS)}"
    if name in taken:
        name = f"{name} {len(taken)}"
    taken.add(name)
    return name


def _item(article: Article, html: str, link: str, published: datetime, author: str) -> str:
    return (
        "<item>"
        f"<title>{escape(article.title)}</title>"
        f"<link>{escape(link)}</link>"
        f"<guid isPermaLink=\"true\">{escape(link)}</guid>"
        f"<pubDate>{format_datetime(published)}</pubDate>"
        f"<dc:creator>{escape(author)}</dc:creator>"
        f"<category>{escape(article.topic.name)}</category>"
        f"<description>{escape(article.paragraphs[0][:200])}</description>"
        f"<content:encoded><![CDATA[{html}]]></content:encoded>"
        "</item>\n"
    )


def write_corpus(folder: Path, feeds: int, entries: int, seed: int = 5) -> list[CorpusFeed]:
    """Write ``feeds`` RSS files of ``entries`` items each into ``folder``; the same seed, the same bytes."""
    rng = random.Random(seed)
    writer = Writer(rng)
    folder.mkdir(parents=True, exist_ok=True)
    wires = [writer.article(rng.choice(ON_THEME if rng.random() < 0.6 else OFF_THEME), rng.randint(2000, 6000))
             for _ in range(max(4, feeds * entries // 40))]
    all_titles = [h for topic in TOPICS for h in topic.headlines]
    taken: set[str] = set()
    made: list[CorpusFeed] = []
    for number in range(feeds):
        name = _outlet_name(rng, taken)
        host = f"outlet{number}.example"
        lean = rng.choice(ON_THEME) if rng.random() < 0.4 else None
        items = []
        for index in range(entries):
            if rng.random() < WIRE_SHARE:
                wire = rng.choice(wires)
                article = wire if rng.random() < VERBATIM_SHARE else writer.edited(wire)
            else:
                if rng.random() < (0.7 if lean else 0.35):
                    topic = lean if lean and rng.random() < 0.7 else rng.choice(ON_THEME)
                else:
                    topic = rng.choice(OFF_THEME)
                article = writer.article(topic, rng.randint(1500, 7000))
            published = NOW - timedelta(minutes=rng.randrange(1, 7 * 24 * 60))
            link = f"https://{host}/2026/11/{index}-{rng.randrange(16**8):08x}/"
            items.append(_item(article, writer.body_html(article, host, all_titles), link, published,
                               writer.person()))
        filename = f"feed{number:04d}.xml"
        (folder / filename).write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>\n'
            f"<title>{escape(name)}</title><link>https://{host}/</link>"
            f"<description>News from {escape(name)}</description><language>en</language>\n"
            + "".join(items)
            + "</channel></rss>\n",
            encoding="utf-8",
        )
        include = ("palestin|gaza|west bank|israel|settler|\\barms\\b|weapon",) if rng.random() < 0.1 else ()
        made.append(CorpusFeed(name, filename, (lean.theme,) if lean and lean.theme else (), include))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    feeds = write_corpus(args.out, args.feeds, args.entries, args.seed)
    size = sum((args.out / feed.filename).stat().st_size for feed in feeds)
    print(f"{len(feeds)} feeds x {args.entries} entries in {args.out} ({size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
