"""Which sentences of a page report something, and which are page furniture.

Answers, timelines, comparisons, briefs and follow posts all quote sentences; none of them
should quote a link line ("MORE: Projecting the playoff field"), a photo caption, a heading,
an embedded tweet, a byline, a shop's disclosure ("we may earn a commission") or a sentence
that only introduces what comes next ("Here is an email from Epic CEO Tim Sweeney:"). The rules
are decided here, once, from what such lines look like on real news pages, and
`ExtractiveAnswerer` applies them to every sentence it may quote.
"""

from __future__ import annotations

import re

# A line that points elsewhere: "Also Read: …", "MORE: …", "READ MORE: …", "Related: …".
_LINK_LINE = re.compile(
    r"^\W*(?:also read|read (?:more|also|next)|more|related(?: articles?| stories| content| "
    r"coverage| reading)?|see also|recommended(?: reading)?|up next|watch|listen|trending|"
    r"don'?t miss|sign up|subscribe)\s*[:|›»\-–—]",
    re.IGNORECASE,
)
_PROMO = re.compile(
    r"^\W*(?:click here|tap here|sign up (?:for|to)|subscribe (?:to|for)|download (?:the|our)|"
    r"get the .{1,30}app|follow us|related (?:articles?|stories)\b)",
    re.IGNORECASE,
)
# Photo credits and captions: "Photograph: Jack Snape/The Guardian", "(Getty Images)",
# "(Image credit: NASA)", "(AP Photo/Evan Vucci)".
_CAPTION = re.compile(
    r"\b(?:photograph|photo(?:graph)?s?|image|illustration|video) ?(?:credit)?s?\s*:\s*\S|"
    r"\((?:photo|image|credit|ap photo|reuters|afp|getty)[^)]*\)\s*$|"
    r"\b(?:getty images|shutterstock|via reuters|ap photo|afp via getty)\W*$|"
    r"^\W*(?:photo|image|file photo|pictured|above|top|left|right)\s*[:(]|"
    r"\bin this (?:courtroom |file |handout )?(?:sketch|photo|picture|image|illustration)\b|"
    r"\b(?:is|are) pictured\b",
    re.IGNORECASE,
)
# An embedded post: its link, or its signature "— Name (@handle) November 5, 2023".
_EMBED = re.compile(
    r"pic\.twitter\.com/|https?://t\.co/|"
    r"[—–-]\s*[^()\n]{0,60}\(@\w{1,20}\)(?:\s+\w+ \d{1,2}, \d{4})?\s*$"
)
_BYLINE = re.compile(
    r"^(?:[Bb]y|(?:[Rr]eporting|[Ww]riting|[Ee]diting|[Aa]dditional reporting|[Cc]ompiled) by)\s+"
    r"[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}(?:\s*(?:,|and|in)\s+.{0,60})?\W*$|"
    r"\bcontributed (?:to this report|reporting)\b",
)
# A shop's or a review's standard words, not news.
_DISCLOSURE = re.compile(
    r"\bhow we (?:test|evaluate|review|choose|pick)\b|\bwe (?:may|might) (?:earn|receive|get) "
    r"(?:a |an )?(?:small )?(?:\w+ )?commission\b|"
    r"\b(?:our|contains?) affil\w* (?:commission|link)s?\b|"
    r"\bindependently (?:selected|chosen|reviewed)\b|\bpurchases? (?:made )?through (?:our )?"
    r"links\b|\bprices? (?:are )?(?:accurate|correct) (?:as )?(?:of|at) (?:the )?time of "
    r"(?:publi|writ)",
    re.IGNORECASE,
)
# Words that only introduce what follows (an embed, a list, a quote in the next paragraph).
_LEAD_IN = re.compile(
    r"^\W*(?:here(?:'s|’s| is| are)|there(?:'s|’s| is| are) also (?:this|these)|take a look|"
    r"see (?:below|the (?:tweet|post|video))|check (?:it|them) out|watch (?:it|the video) "
    r"(?:here|below))\b",
    re.IGNORECASE,
)
# The site's own lines around an article: sign-in and save prompts, privacy and reCAPTCHA
# notices, copyright lines, feedback widgets ("Save Log in , register or subscribe to save
# articles for later.", "© Copyright of Globes Publisher Itonut (1983) Ltd., 2023.").
_SITE = re.compile(
    r"\bsave articles for later\b|\badd articles to your saved list\b|"
    r"\blog ?in\s*,?\s*(?:register|sign up) or subscribe\b|"
    r"\b(?:see|read|agree to) our (?:privacy|terms)\b|\bterms of service apply\b|"
    r"\b(?:protected by|use google) recaptcha\b|^\W*(?:©|copyright\b)|"
    r"\bby submitting your email\b|^\W*read this article for free\b|"
    r"\bget unlimited access to (?:thousands of )?articles\b|^\W*was this (?:article )?helpful\W*$|"
    r"^\W*thank you for your feedback\W*$",
    re.IGNORECASE,
)
_END = re.compile(r"[.!?…\"”’')\]]$")
_LETTERS = re.compile(r"[^\W\d_]")


def is_heading(paragraph: str) -> bool:
    """Tell whether a paragraph is a heading or subheading: short, and no sentence's end."""
    text = paragraph.strip()
    short = len(text.split()) <= 14
    return bool(text) and short and not _END.search(text) and not text.endswith(":")


def is_lead_in(sentence: str) -> bool:
    """Tell whether a sentence only introduces what follows ("… speaks for itself:", "Here is
    an email from …"): it is never quoted on its own."""
    text = sentence.strip()
    return text.endswith(":") or (_LEAD_IN.search(text) is not None and len(text.split()) <= 16)


def is_furniture(sentence: str) -> bool:
    """Tell whether a sentence is page furniture, not reporting: a link line, a caption or
    photo credit, an embedded post, a byline, a shop's disclosure, the site's own notices
    (sign-in, privacy, copyright), or words in capitals."""
    text = sentence.strip()
    if not _LETTERS.search(text):
        return True
    if (
        _LINK_LINE.search(text)
        or _PROMO.search(text)
        or _CAPTION.search(text)
        or _EMBED.search(text)
        or _DISCLOSURE.search(text)
        or _SITE.search(text)
    ):
        return True
    if len(text.split()) <= 12 and _BYLINE.search(text):
        return True
    letters = "".join(_LETTERS.findall(text))
    if len(text.split()) >= 3 and letters.isupper():
        return True  # "CLICK HERE TO GET THE APP"
    # A post's words ("i loved my time at openai."): no capital anywhere, not even the first.
    return len(text.split()) >= 3 and letters.islower() and text[:1].islower()


def is_reporting(sentence: str) -> bool:
    """Tell whether a sentence may be quoted alone as reporting."""
    return not is_furniture(sentence) and not is_lead_in(sentence)
