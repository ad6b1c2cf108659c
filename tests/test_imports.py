"""Dependencies run one way (docs/architecture.md, "Apps and labels"; issue 13).

Every module of ``cms``, ``stories`` and ``syndication`` is parsed with ``ast`` and every
import is counted, those inside functions included (an import moved into a function
still makes a cycle, it only hides it). Relative imports are resolved, ``from a import
b`` counts as importing the module ``a.b`` when there is one, else ``a``. The test fails on

* an import cycle among modules;
* ``stories`` naming ``syndication``: an import, a template of ``templates/stories/``
  (or the site's frame they extend, ``templates/base.html``) that loads its tag
  libraries, names its URLs or includes its templates, or a string in ``stories``
  naming one of its URLs (story pages and the frame get syndication's blocks through
  the hooks of ``stories/templatetags/reading_tags.py``);
* ``syndication.engagement`` importing ``syndication.newsletter``;
* anything outside ``syndication.conversation`` importing it (the conversation reads
  syndication and stories; nothing there reads it).

And no hand-written module is longer than ``LONGEST`` lines (issue 13): past that a
module holds more than one concern. Migrations, the demo's content, the test servers
and the selection engine (one algorithm, read top to bottom) are exempt.
"""

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cms", "stories", "syndication")
ENGAGEMENT = "syndication.engagement"
NEWSLETTER = "syndication.newsletter"
CONVERSATION = "syndication.conversation"
LONGEST = 800
#: Where modules are written by hand, and what is exempt from ``LONGEST``.
WRITTEN = ("bench", "cms", "stories", "syndication", "tests")
EXEMPT = (
    "*/migrations/*",
    "stories/demo/content.py",
    "syndication/testing/*",
    "syndication/testing/*/*",
    "stories/selection.py",
)


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _known_module(name: str | None) -> str | None:
    """``name`` or the nearest package above it that is one of ours, else None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> dict[str, int]:
    """{imported module of ours: first line} for every import in ``path``, anywhere in it."""
    found: dict[str, int] = {}
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [_known_module(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                targets.append(submodule if submodule in MODULES else _known_module(source))
        for target in targets:
            if target and target != module:
                found.setdefault(target, node.lineno)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _missing_relative_imports() -> list[str]:
    """``from .x import y`` naming a module ``x`` we do not have (an import inside a
    function fails only when it runs, and the walk above would count its package)."""
    missing = []
    for module, path in MODULES.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level and node.module:
                base = package[: len(package) - node.level + 1]
                source = ".".join([*base, node.module])
                if source not in MODULES:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {source}")
    return missing


def _where(importer: str, imported: str) -> str:
    path = MODULES[importer].relative_to(ROOT)
    return f"{path}:{GRAPH[importer][imported]} imports {imported}"


def _components() -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in GRAPH:
        if start in index:
            continue
        work = [(start, iter(GRAPH[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(GRAPH[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(component)
    return components


def _violations() -> set[tuple[str, str, str]]:
    found = set()
    for component in _components():
        for importer in component:
            cyclic = [imported for imported in GRAPH[importer] if imported in component]
            found.update(("cycle", importer, imported) for imported in cyclic)
    for importer, imported in ((a, b) for a in GRAPH for b in GRAPH[a]):
        stories_to_syndication = _within(importer, "stories") and _within(imported, "syndication")
        engagement_to_newsletter = _within(importer, ENGAGEMENT) and _within(imported, NEWSLETTER)
        into_conversation = _within(imported, CONVERSATION) and not _within(importer, CONVERSATION)
        if stories_to_syndication or engagement_to_newsletter or into_conversation:
            found.add(("forbidden", importer, imported))
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_walk_sees_relative_and_function_level_imports():
    assert "stories.models.pages" in GRAPH["stories.models"]  # from .pages import …
    assert "stories.models" in GRAPH["stories.signals"]
    # stories.tasks imports the models inside a function only.
    assert "stories.models" in GRAPH["stories.tasks"]
    assert "stories.models.voice" in GRAPH["stories.tasks"]


def test_relative_imports_name_modules_that_exist():
    assert not _missing_relative_imports()


def test_no_import_cycle_and_no_forbidden_direction():
    found = sorted(_violations())
    assert not found, "Imports against the layering (DESIGN.md):\n" + "\n".join(
        f"{kind}: {_where(importer, imported)}" for kind, importer, imported in found
    )


def _syndication_names() -> tuple[set[str], set[str]]:
    """Syndication's template tag libraries and URL namespaces."""
    libraries = {
        path.stem
        for path in (ROOT / "syndication").rglob("templatetags/*.py")
        if path.name != "__init__.py"
    }
    namespaces = set()
    for path in (ROOT / "syndication").rglob("*urls.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and any(getattr(target, "id", None) == "app_name" for target in node.targets)
            ):
                namespaces.add(node.value.value)
    return libraries, namespaces


def test_story_templates_and_strings_name_nothing_of_syndication():
    libraries, namespaces = _syndication_names()
    assert {"syndication_tags", "engagement_tags"} <= libraries
    assert {"syndication", "newsletter", "engagement"} <= namespaces
    names = "|".join(map(re.escape, sorted(namespaces)))
    url = re.compile(r"\{%\s*url\s+['\"](?:" + names + r"):")
    apps = "syndication|engagement|newsletter"
    template = re.compile(r"\{%\s*(?:include|extends)\s+['\"](?:" + apps + ")/")
    load = re.compile(r"\{%\s*load\s+([^%]*?)\s*%\}")
    problems = []
    # The reading pages' templates and the site's frame they extend (templates/*.html).
    frame = sorted((ROOT / "templates").glob("*.html"))
    for path in [*frame, *sorted((ROOT / "templates" / "stories").rglob("*.html"))]:
        text = path.read_text()
        for number, line in enumerate(text.splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            if url.search(line) or template.search(line):
                problems.append(f"{where}: {line.strip()}")
            for loaded in load.findall(line):
                for library in set(loaded.split()) & libraries:
                    problems.append(f"{where}: loads {library}")
    url_name = re.compile(r"^(?:" + names + r"):[\w-]*$")
    for module, path in MODULES.items():
        if not _within(module, "stories"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and url_name.match(node.value)
            ):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not problems, "stories names syndication:\n" + "\n".join(problems)


def test_no_hand_written_module_is_longer_than_its_limit():
    long = []
    for folder in WRITTEN:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if any(fnmatch.fnmatch(str(relative), pattern) for pattern in EXEMPT):
                continue
            lines = len(path.read_text().splitlines())
            if lines > LONGEST:
                long.append(f"{relative}: {lines} lines")
    assert not long, f"Modules over {LONGEST} lines (split them by concern):\n" + "\n".join(long)


def test_the_length_limit_sees_long_modules():
    """The exemptions name files that exist and are long, so the walk above reads them."""
    assert len((ROOT / "stories/demo/content.py").read_text().splitlines()) > LONGEST
    assert not fnmatch.fnmatch("tests/test_imports.py", EXEMPT[0])
    assert fnmatch.fnmatch("syndication/testing/mastodon/server.py", "syndication/testing/*")
