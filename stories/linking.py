"""The rules a story's links must follow, shared by the admin form and the model.

A story has at most one ``continues`` link, never links to itself, and
``continues`` links never form a cycle (A continues into B continues into A).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

CONTINUES = "continues"


@dataclass(frozen=True)
class LinkProblem:
    index: int  # position of the offending link in the list checked
    field: str  # "target" or "kind"
    message: str


def find_link_problems(
    page_id: int | None,
    links: Sequence[tuple[int | None, str]],
    continues_of: Callable[[], dict[int, int]],
) -> list[LinkProblem]:
    """Check ``links`` (target id, kind) proposed for the story ``page_id``.

    ``continues_of`` returns the stored ``continues`` edges of other stories,
    {story id: target id}; it is only called when a cycle is possible.
    """
    problems: list[LinkProblem] = []
    seen_continues = False
    seen_targets: set[int] = set()
    for index, (target_id, kind) in enumerate(links):
        if target_id is None:
            continue
        if page_id is not None and target_id == page_id:
            problems.append(LinkProblem(index, "target", "A story cannot link to itself."))
            continue
        if target_id in seen_targets:
            problems.append(
                LinkProblem(index, "target", "This story is already linked; link it only once.")
            )
            continue
        seen_targets.add(target_id)
        if kind != CONTINUES:
            continue
        if seen_continues:
            problems.append(
                LinkProblem(
                    index,
                    "kind",
                    "A story can continue into only one other story; "
                    "make this link 'background' or 'related'.",
                )
            )
            continue
        seen_continues = True
        if page_id is not None:
            path = _continues_path(target_id, page_id, continues_of())
            if path is not None:
                problems.append(
                    LinkProblem(
                        index,
                        "target",
                        "These 'continues' links would go round in a circle "
                        f"(story ids {' → '.join(str(p) for p in [page_id, *path])}); "
                        "a story cannot continue into one that leads back to it.",
                    )
                )
    return problems


def _continues_path(start: int, page_id: int, edges: dict[int, int]) -> list[int] | None:
    """The chain start → … → page_id through stored continues edges, or None."""
    path = [start]
    node = start
    visited = {start}
    while node in edges:
        node = edges[node]
        if node == page_id:
            return [*path, node]
        if node in visited:  # an older cycle not involving this page; stop walking
            return None
        visited.add(node)
        path.append(node)
    return None
