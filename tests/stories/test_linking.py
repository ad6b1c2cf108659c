"""The link rules as a pure function (no database)."""

from stories.linking import find_link_problems


def no_edges():
    raise AssertionError("stored edges should not be needed")


def test_clean_links_have_no_problems():
    assert find_link_problems(1, [(2, "continues"), (3, "background"), (4, "related")], dict) == []


def test_duplicate_targets_are_reported_once_each():
    problems = find_link_problems(1, [(2, "related"), (2, "background")], no_edges)
    assert [(p.index, p.field) for p in problems] == [(1, "target")]


def test_second_continues_is_reported_on_its_kind():
    problems = find_link_problems(1, [(2, "continues"), (3, "continues")], dict)
    assert [(p.index, p.field) for p in problems] == [(1, "kind")]


def test_long_cycle_is_found_through_stored_edges():
    edges = {2: 3, 3: 4, 4: 1}
    problems = find_link_problems(1, [(2, "continues")], lambda: edges)
    assert len(problems) == 1
    assert "1 → 2 → 3 → 4 → 1" in problems[0].message


def test_an_older_unrelated_cycle_does_not_hang_or_block():
    edges = {2: 3, 3: 2}
    assert find_link_problems(1, [(2, "continues")], lambda: edges) == []


def test_new_story_without_id_only_checks_local_rules():
    assert find_link_problems(None, [(2, "continues")], no_edges) == []
