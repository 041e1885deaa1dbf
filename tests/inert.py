"""An independent check that HTML is inert: what digest.sources.sanitize promises, verified with lxml."""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

ACTIVE_TAGS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
        "input", "button", "select", "textarea", "link", "meta", "base", "svg", "math",
        "template", "noscript", "img", "video", "audio", "source", "track", "picture",
    }
)  # fmt: skip
URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background",
        "data", "lowsrc", "dynsrc", "ping", "cite", "longdesc", "usemap", "manifest",
    }
)  # fmt: skip
SAFE_SCHEMES = ("http:", "https:", "mailto:")
URL_NOISE = re.compile(r"[\x00-\x20\x7f]")


def active_content(markup: str) -> list[str]:
    """Everything in ``markup`` a browser could run, load or style; empty when inert."""
    if not markup.strip():
        return []
    root = lxml_html.document_fromstring(
        markup.encode("utf-8"), parser=lxml_html.HTMLParser(encoding="utf-8")
    )
    problems = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = etree.QName(element).localname.lower()
        if tag in ACTIVE_TAGS:
            problems.append(f"<{tag}> element")
        for name, value in element.attrib.items():
            name = name.lower()
            if name.startswith("on"):
                problems.append(f"<{tag} {name}> event handler")
            elif name == "style":
                problems.append(f"<{tag} style> inline CSS")
            elif name in URL_ATTRIBUTES:
                url = URL_NOISE.sub("", value).lower()
                if not url.startswith(SAFE_SCHEMES):
                    problems.append(f"<{tag} {name}={value!r}> unsafe or relative URL")
        if tag == "a" and element.get("href") and element.get("rel") != "noopener noreferrer":
            problems.append("<a href> without rel=noopener noreferrer")
    return problems
