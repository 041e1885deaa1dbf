"""Cleaning: keep a document's own text, drop the page furniture around it.

Scraped pages carry share buttons, sign-up prompts, bylines repeated by the
layout, photo captions and credits, "read more" links, category labels and
lists of other headlines. No library cleans *plain text* (jusText and
trafilatura need the HTML tree), so this stage classifies each line by
features that hold across sites rather than by phrases seen on one:

- shape: word count, closing punctuation, capitalisation, a line that is
  one string written twice (a button's label and its hidden twin);
- repetition: short lines that recur are layout (bylines, labels);
- vocabulary: the interface words of the web (share, subscribe, log in,
  comments, click …) and the credit labels of captions (Photo:, Credit:);
- runs: three or more short title-like lines together, with dates, teasers
  or lines in another script, are a list of links, not an article;
- writing system and language: a line in another script or language than
  the document is a stray (a related link, a caption in the site's language).

Each dropped line is returned as a Drop with its reason. The lines kept are
Blocks; headings, story openings (datelines, lines after a "read more"
link) and publishers credited in the text are marked for the splitter.

Two parts: digest.stages.clean.lines (a line's shape, and the rules that
judge a line alone) and digest.stages.clean.document (the rules across
lines, and clean_document itself).
"""

from digest.stages.clean.document import clean_document, clean_documents

__all__ = ["clean_document", "clean_documents"]
