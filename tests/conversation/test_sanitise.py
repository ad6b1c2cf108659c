"""Remote HTML and addresses made safe to keep and show."""

from syndication.conversation import sanitise


def test_hostile_html_keeps_words_and_safe_links_only():
    safe, cut = sanitise.clean_html(
        '<script>alert(1)</script><p onclick="steal()">Nice <b>story</b> '
        '<a href="javascript:alert(1)">click</a> <a href="https://ok.example/x">ok</a>'
        '<img src=x onerror="boom()"><iframe src="https://evil.example"></iframe>'
        '<style>body{}</style></p><a href="data:text/html,hi">d</a>'
    )
    assert not cut
    for bad in ("script", "alert", "onclick", "javascript:", "<img", "iframe", "style", "data:"):
        assert bad not in safe
    assert '<a href="https://ok.example/x" rel="nofollow ugc noopener noreferrer">ok</a>' in safe
    assert "<b>story</b>" in safe
    assert sanitise.plain_text(safe) == "Nice story click ok\nd"


def test_a_huge_answer_is_cut_and_says_so():
    safe, cut = sanitise.clean_html("<p>" + "word " * 40_000 + "</p>")
    assert cut
    assert len(safe) <= sanitise.MAX_SOURCE + 10
    assert len(sanitise.plain_text(safe)) == sanitise.MAX_TEXT


def test_content_that_is_not_text_becomes_nothing():
    assert sanitise.clean_html({"html": "<p>x</p>"}) == ("", False)
    assert sanitise.clean_html(None) == ("", False)


def test_only_http_addresses_are_kept():
    assert sanitise.web_url("https://social.example/@a") == "https://social.example/@a"
    assert sanitise.web_url("http://social.example/@a") == "http://social.example/@a"
    for bad in (
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "https:///nohost",
        "https://a.example/ x",
        "https://a.example/\x00x",
        "https://a.example/\u202ex",
        "https://a.example/" + "x" * 600,
        None,
        42,
    ):
        assert sanitise.web_url(bad) == ""


def test_names_are_one_line_of_plain_text():
    assert sanitise.short_text("<b>Eve</b>\x00\n  the <i>great</i>", 200) == "Eve the great"
    assert sanitise.short_text("x" * 500, 200) == "x" * 200
    assert sanitise.short_text(["not", "text"], 200) == ""
