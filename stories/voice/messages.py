"""What the voice check says about a finding: the rule it belongs to, why it reads as
selling and what a storyteller would write instead."""

from __future__ import annotations

RULES = (
    "call-to-action",
    "urgency",
    "scarcity",
    "discount",
    "superlative",
    "hype",
    "pressure-punctuation",
    "shouting",
    "brand-term",
    "soft-pitch",
)

# ---------------------------------------------------------------------------------------------
# Explanations. Each kind belongs to one rule; "{p}" is the flagged phrase.
# ---------------------------------------------------------------------------------------------

_KINDS: dict[str, tuple[str, str, str]] = {
    "cta-buy": (
        "call-to-action",
        '"{p}" tells the reader to spend money, which turns the story into an advert.',
        "Let someone in the story make the choice instead, e.g. 'Ana booked the Friday class "
        "after her second visit', and leave the buying to the page's link.",
    ),
    "cta-act": (
        "call-to-action",
        '"{p}" is an instruction to act on an offer, the voice of a flyer rather than a '
        "storyteller.",
        "Describe what a real customer did and what happened next, e.g. 'Tom switched in "
        "March and his first bill came in £12 lower'.",
    ),
    "cta-modal": (
        "call-to-action",
        '"{p}" points the reader at a purchase instead of telling them something.',
        "Say who did it and why, e.g. 'Most families book the Sunday slot because the kids "
        "are fresh', and let the reader draw the conclusion.",
    ),
    "urgency-now": (
        "urgency",
        '"{p}" pushes the reader to hurry, which is sales pressure, not part of the story.',
        "Drop the rush and give the reader a reason to care, e.g. what changed for the people "
        "in the story once they did it.",
    ),
    "urgency-deadline": (
        "urgency",
        '"{p}" sets a deadline on an offer to make the reader act before thinking.',
        "If the date matters, state it once as a plain fact, e.g. 'The autumn menu runs until "
        "3 November', without telling the reader to beat it.",
    ),
    "urgency-fomo": (
        "urgency",
        '"{p}" plays on the fear of missing out, a classic sales lever.',
        "Show what someone gained from it in a specific scene instead, e.g. 'Maya still "
        "talks about the first night she went'.",
    ),
    "scarcity": (
        "scarcity",
        '"{p}" uses scarcity to pressure the reader into acting before it is gone.',
        "If supply is part of the story, explain it as a fact with its cause, e.g. 'The potter "
        "fires forty mugs a month, and the kiln sets the pace'.",
    ),
    "discount-percent": (
        "discount",
        '"{p}" advertises a price cut, the language of a shop window rather than a story.',
        "Leave offers to the promotions area; in the story, say what the cost meant to a "
        "person, e.g. 'For Jo, the £40 fee decided whether she went at all'.",
    ),
    "discount-free": (
        "discount",
        '"{p}" dangles something free as bait, which readers recognise as an advert.',
        "Describe what people actually get and use, e.g. 'Every new member spends their first "
        "session with a coach who asks about their knees'.",
    ),
    "discount-terms": (
        "discount",
        '"{p}" is small-print offer language (codes, guarantees, sign-up terms).',
        "Cut it from the story and keep the terms on the offer page; tell what happened to a "
        "real person instead.",
    ),
    "discount-price": (
        "discount",
        '"{p}" frames a price as a bargain to tempt the reader.',
        "Give the price as a plain fact in context, e.g. 'A week's food for the dogs costs "
        "about £9', without 'just' or 'only'.",
    ),
    "superlative-rank": (
        "superlative",
        '"{p}" is the brand ranking itself, a claim readers have learned to ignore.',
        "Show one concrete detail that earns the praise, e.g. 'Ravi has taken his van to the "
        "same mechanic for eleven years'.",
    ),
    "superlative-ever": (
        "superlative",
        '"{p}" promises the best the reader will ever find, which only an advert says.',
        "Replace the claim with a specific comparison a person made, e.g. 'It was the first "
        "mortgage letter Sam understood without a dictionary'.",
    ),
    "superlative-proof": (
        "superlative",
        '"{p}" leans on crowd numbers to sell instead of telling one person\'s story.',
        "Pick one of those customers and tell what happened to them, in their own words.",
    ),
    "hype": (
        "hype",
        '"{p}" is a hype word that promises excitement without showing any.',
        "Replace it with the concrete thing that changed: what it does, for whom, and what "
        "happened when they used it.",
    ),
    "pressure-punctuation": (
        "pressure-punctuation",
        '"{p}" raises the volume of a sentence that is already selling.',
        "End on a full stop and let the detail carry the feeling; keep exclamation marks for "
        "people speaking in quotes.",
    ),
    "shouting": (
        "shouting",
        '"{p}" is written in capitals, which reads as shouting at the reader.',
        "Write it in ordinary case and let the sentence around it do the work.",
    ),
    "brand-term": (
        "brand-term",
        '"{p}" is on your brand\'s list of campaign phrases to keep out of stories.',
        "Describe what the product did for a real person instead of using the campaign phrase.",
    ),
}

# The learned layer's findings (``model.py``): "{p}" is the heaviest phrase, "{also}" names
# the others that weighed most in the sentence. One kind per kind of pitch in the corpus.
_WHY_SOFT = (
    '"{p}"{also} reads as a soft pitch: it moves the reader towards buying rather than '
    "telling them something."
)
_KINDS.update(
    {
        "model-soft-cta": (
            "soft-pitch",
            _WHY_SOFT,
            "Instead of inviting readers to talk to you or find out more, give them the answer "
            "here: what a real customer asked and what they learned.",
        ),
        "model-social-proof": (
            "soft-pitch",
            _WHY_SOFT,
            "Numbers of happy customers sell; one customer's story tells. Pick one person and "
            "say what happened to them.",
        ),
        "model-benefit-claim": (
            "soft-pitch",
            _WHY_SOFT,
            "Show the benefit happening to someone in the story (who, when, what changed) "
            "instead of promising it to the reader.",
        ),
        "model-price-appeal": (
            "soft-pitch",
            _WHY_SOFT,
            "Leave prices to the product page; if cost matters to the story, say what someone "
            "paid and what it was worth to them.",
        ),
        "model-scarcity": (
            "soft-pitch",
            _WHY_SOFT,
            "Drop the hint that the reader might miss out; if places really are limited, say "
            "so as a plain fact with the date.",
        ),
        "model-community-as-customers": (
            "soft-pitch",
            _WHY_SOFT,
            "Invite readers into a conversation (reply, share their story) rather than into "
            "your customer base.",
        ),
        "model-story-turns-to-pitch": (
            "soft-pitch",
            _WHY_SOFT,
            "End the story on the person and what changed for them; the page's links can "
            "point to the product.",
        ),
        "model-blatant": (
            "soft-pitch",
            _WHY_SOFT,
            "Rewrite it as something that happened to a real person, without the offer.",
        ),
        "model-other": (
            "soft-pitch",
            _WHY_SOFT,
            "Say what happened, to whom, and let the reader draw the conclusion.",
        ),
    }
)
