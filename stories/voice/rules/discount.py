"""Discount: prices framed as offers ("N% off", "half price", promo codes, "from just £N")."""

from __future__ import annotations

from stories.voice.rules.base import (
    _MONEY,
    _NUMBER,
    _NUMBER_HEADS,
    _PERCENT,
    _r,
    _Rule,
    _words,
)

_PHRASES: list[_Rule] = [
    _r(
        "discount-percent",
        0.65,
        r"(?:up\s+to\s+|an?\s+extra\s+|extra\s+)?" + _PERCENT + r"\s*(?:off|discount|cashback"
        r"|back|savings?)\b",
        heads="<num>",
        back=12,
        past=True,
    ),
    _r(
        "discount-percent",
        0.65,
        [r"now", r"only", r"just"],
        r"\s+" + _PERCENT + r"\s*(?:cheaper|less|lower)\b",
        past=True,
    ),
    _r("discount-percent", 0.55, r"save\s+(?:up\s+to\s+)?" + _PERCENT, past=True),
    _r(
        "discount-percent",
        0.45,
        r"save\s+(?:up\s+to\s+|over\s+|more\s+than\s+|around\s+|as\s+much\s+as\s+"
        r"|(?:an\s+)?average\s+(?:of\s+)?)?" + _MONEY,
        past=True,
    ),
    _r("discount-percent", 0.45, r"save\s+(?:big|more|a\s+fortune|hundreds|money)\b", past=True),
    _r(
        "discount-percent",
        0.6,
        [r"half[-\s]price\b", r"half\s+off\b", r"1/2[-\s]price\b"],
        past=True,
    ),
    _r(
        "discount-percent",
        0.6,
        [
            r"buy\s+one,?\s+get\s+one(?:\s+free|\s+half\s+price)?\b",
            r"bogof\b",
            r"two[-\s]+for[-\s]+one\b",
            r"three[-\s]+for[-\s]+two\b",
            r"\d[-\s]+for[-\s]+\d\b",
        ],
        past=True,
    ),
    _r(
        "discount-percent",
        0.6,
        r"for\s+the\s+price\s+of\s+(?:one|two|1|2)\b",
        heads="price",
        back=9,
    ),
    _r(
        "discount-percent",
        0.5,
        [
            r"slash\b",
            r"slashed\b",
            r"slashing\b",
            r"prices?\s+(?:reduced|cut|down)\s+(?:by|on|across|in)\b",
        ],
        past=True,
    ),
    _r(
        "discount-percent",
        0.5,
        [r"we[’']ve", r"we\s+have", r"we[’']re", r"we\s+are"],
        r"\s+(?:\w+\s+)?(?:cut|cutting|reduced|reducing|lowered|lowering|dropped|dropping)\s+"
        r"(?:\w+\s+)?(?:prices|rates|fees)\b",
    ),
    _r(
        "discount-free",
        0.55,
        r"free\s+(?:shipping|delivery|postage|returns|gifts?|trials?|quotes?|consultations?"
        r"|installation|fitting|upgrades?|samples?|bonus|estimates?|valuations?|p&p|next[-\s]day"
        r"|month|months|week|weeks|class|lessons?|sessions?|taster|bottle)\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.65,
        [r"first", r"1st"],
        r"\s+(?:" + _NUMBER + r"\s+)?(?:months?|weeks?|years?|lessons?|class|classes|sessions?"
        r"|box|boxes|delivery|order|visit)\s+(?:is\s+|are\s+)?(?:free|on\s+us|on\s+the\s+house"
        r"|half[-\s]price)\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.6,
        _NUMBER_HEADS,
        r"\s+(?:days?|weeks?|months?)\s+(?:free|on\s+us)\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.6,
        r"free\s+for\s+(?:the\s+first\s+)?" + _NUMBER + r"\s+(?:days?|weeks?|months?)\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.5,
        _words(r"eats? stays? go goes travels? rides? fly flies"),
        r"\s+free\b",
        past=True,
    ),
    _r(
        "discount-free",
        0.5,
        [
            r"zero\s+(?:upfront|up-front|up\s+front)\b",
            r"nothing\s+(?:upfront|up-front|up\s+front)\b",
            r"no\s+(?:upfront|up-front|up\s+front)\b",
            r"pay\s+nothing\b",
            r"interest[-\s]free\b",
            r"0\s?%\s+(?:finance|apr|interest)\b",
        ],
        past=True,
    ),
    _r(
        "discount-free",
        0.5,
        r"(?:\bis|\bare|[’']s|[’']re)\s+on\s+us\b",
        heads="us",
        back=8,
        past=True,
    ),
    _r("discount-free", 0.5, r"on\s+the\s+house\b", heads="house", back=8, past=True),
    _r("discount-free", 0.4, r"complimentary\b", past=True),
    _r(
        "discount-free",
        0.45,
        [
            r"costs?\s+(?:you\s+)?nothing\b",
            r"pay\s+(?:you\s+)?nothing\b",
            r"for\s+free\b",
            r"free\s+of\s+charge\b",
        ],
        past=True,
    ),
    _r(
        "discount-free",
        0.45,
        r"at\s+no\s+(?:extra\s+|additional\s+)?(?:cost|charge)\b",
        heads="cost charge",
        back=20,
        past=True,
    ),
    _r(
        "discount-price",
        0.5,
        [r"sale\s+now\s+on\b", r"offers?\s+now\s+on\b", r"deals?\s+now\s+on\b"],
        past=True,
    ),
    _r(
        "discount-price",
        0.5,
        r"(?:everything|it\s+all|all\s+stock)(?:\s+[\w'-]+){0,3}?\s+must\s+go\b",
        heads="must",
        back=40,
        past=True,
    ),
    _r(
        "discount-terms",
        0.45,
        [
            r"(?<=,)guaranteed\b",
            r"(?<=,\s)guaranteed\b",
            r"guaranteed\s+or\s+your\s+money\s+back\b",
        ],
    ),
    _r(
        "discount-terms",
        0.45,
        _words(
            r"satisfaction results quality prices? rates? savings delivery approval returns value"
        ),
        r"\s+guaranteed\b",
    ),
    _r(
        "discount-terms",
        0.4,
        [
            r"prize\s+draw\b",
            r"giveaway\b",
            r"competition\s+closes\b",
            r"win\s+(?:a|an)\s+\w+\s+worth\b",
        ],
        past=True,
    ),
    _r(
        "discount-terms",
        0.6,
        _words(r"promo discount voucher coupon offer referral"),
        r"\s+codes?\b",
    ),
    # Codes are upper-case in the original text; the match is checked against it.
    _r(
        "discount-terms",
        0.6,
        r"(?:use|enter|with|quote)\s+(?:the\s+)?code\s+([a-z0-9]{3,})\b",
        heads="code",
        back=12,
        caps=True,
    ),
    _r(
        "discount-terms",
        0.5,
        [
            r"no[-\s]obligation\b",
            r"no[-\s]risk\b",
            r"risk[-\s]free\b",
            r"money[-\s]back\s+guarantee\b",
            r"guaranteed\s+(?:savings|results|lowest|returns?|approval)\b",
            r"price[-\s]match\b",
            r"no\s+hidden\s+(?:fees|costs|charges)\b",
            r"cancel\s+(?:at\s+)?any\s?time\b",
            r"no\s+credit\s+card\s+(?:required|needed)\b",
            r"no\s+strings\s+attached\b",
        ],
    ),
    _r(
        "discount-terms",
        0.55,
        _words(
            r"special introductory exclusive limited welcome sign-up signup joining launch "
            r"seasonal loyalty"
        ),
        r"\s+(?:offers?|discounts?|deals?|pricing|rates?|bonus(?:es)?|gifts?)\b",
        past=True,
    ),
    _r(
        "discount-terms",
        0.5,
        r"when\s+you\s+(?:spend|sign\s+up|join|switch|open|order|buy|book|refer|subscribe"
        r"|upgrade|register|apply|shop)\b",
    ),
    _r(
        "discount-terms",
        0.5,
        r"with\s+(?:every|each|any|all)\s+(?:purchase|order|booking|subscription|spend)s?\b",
        past=True,
    ),
    _r(
        "discount-terms",
        0.45,
        _words(r"orders? purchases? spend spending baskets?"),
        r"\s+(?:over|above|of\s+over)\s+" + _MONEY,
        past=True,
    ),
    _r("discount-terms", 0.45, [r"we[’']re", r"we\s+are"], r"\s+giving\s+away\b"),
    _r("discount-terms", 0.4, r"cashback\b", past=True),
    _r(
        "discount-terms",
        0.5,
        [r"double", r"triple", r"bonus", r"extra"],
        r"\s+(?:points|miles|stamps|rewards|cashback)\b",
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        [
            r"clearance\b",
            r"closing[-\s]down\s+sale\b",
            r"bargains?\b",
            r"flash\s+sale\b",
            r"mega\s+sale\b",
        ],
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        r"(?:(?:from|for|at)\s+)?(?:just|only)\s+" + _MONEY,
        heads="just only",
        back=5,
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        [r"prices?"],
        r"\s+(?:start|starts|starting)\s+(?:at|from)\s+" + _MONEY,
        past=True,
    ),
    _r(
        "discount-price",
        0.5,
        _words(
            r"tickets? rooms? flights? fares? plans? packages? memberships? holidays? breaks? "
            r"seats? menus? lessons? classes tours? cruises? stays? nights? rates? deals? bundles?"
        ),
        r"\s+(?:start\s+|starting\s+)?(?:from|at)\s+" + _MONEY,
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        r"from\s+" + _MONEY + r"\s+(?:each\s+way|a\s+night|per\s+night|per\s+person|pp|a\s+head"
        r"|per\s+head|a\s+month|per\s+month|a\s+week|per\s+week|a\s+year|per\s+year|a\s+day"
        r"|per\s+day|a\s+visit|per\s+visit|a\s+session|per\s+session)\b",
        past=True,
    ),
    _r(
        "discount-percent",
        0.55,
        _words(r"cut reduce slash lower halve trim save"),
        r"\s+(?:your\s+)?(?:[\w'’-]+\s+){0,3}?by\s+(?:up\s+to\s+|as\s+much\s+as\s+|over\s+)?"
        + _PERCENT,
        past=True,
    ),
    _r(
        "hype",
        0.35,
        r"in\s+(?:just|under|less\s+than|as\s+little\s+as)\s+(?:\d+|a\s+few|few|two|three|five"
        r"|ten|fifteen|twenty|thirty|sixty)\s+(?:seconds|minutes|clicks|taps)\b",
        heads="seconds minutes clicks taps",
        back=40,
    ),
    _r(
        "discount-price",
        0.45,
        _words(r"get earn receive enjoy claim bag"),
        r"\s+(?:up\s+to\s+)?(?:an?\s+extra\s+)?" + _MONEY,
        past=True,
    ),
    _r(
        "discount-price",
        0.5,
        [r"vouchers?", r"gift\s+cards?", r"credit", r"bonus", r"rewards?"],
        r"\s+(?:worth|of)\s+" + _MONEY,
        past=True,
    ),
    _r("discount-price", 0.45, [r"why\s+pay\s+more\b", r"pay\s+less\b"]),
    _r("discount-price", 0.35, r"for\s+less\b", past=True),
    _r(
        "discount-price",
        0.45,
        r"(?:at|for)\s+(?:one|a|an|our|this|the)\s+(?:(?:very|super|incredibly)\s+)?(?:low|great"
        r"|amazing|fantastic|special|bargain|reduced|discounted|affordable|competitive|sensible)"
        r"\s+(?:monthly\s+|fixed\s+)?prices?\b",
        heads="price prices",
        back=45,
        past=True,
    ),
    _r(
        "discount-price",
        0.45,
        [r"prices?"],
        r"\s+(?:you[’']ll|you\s+will|you\s+can|to)\s+(?:love|afford|like|suit)\b",
    ),
]
