"""The README's pictures, taken from the running demo in Chromium.

    make run                                  # in one terminal: the demo site
    .venv/bin/python scripts/screenshots.py   # in another: writes docs/images/*.png

Drives the site ``make run`` serves (``--url``, http://127.0.0.1:8000 by default) as a
person would, in Debian's Chromium through Playwright (as tests/browser does):

* ``story-page.png``: the end of the demo story whose posts went out: "Join the
  conversation", "Continue the story", more stories;
* ``editor-voice-check.png``: the editor typing a sales line into a story and the voice
  check's finding beside it (nothing is saved);
* ``post-queue.png``: the post queue as the social manager sees it, published posts
  with their metrics;
* ``engagement-report.png``: the engagement report with its charts.

The story is found in the site's own database (the same settings and environment as
``make run``'s, ``cms.settings.dev`` by default), so run it from the project folder with
the same variables. Each picture is the 1280 × 900 window; one over ``MAX_BYTES`` is
stored with a 256-colour palette.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
MAX_BYTES = 280_000
SALES_LINE = "Act now: only 3 left at this unbeatable price, book your free consultation today!"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def demo_story() -> tuple[str, int]:
    """The path and id of the demo story whose posts went out (the most published)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    import django

    django.setup()
    from django.db.models import Count, Q

    from stories.models import StoryPage

    story = (
        StoryPage.objects.live()
        .annotate(out=Count("syndication_posts", filter=Q(syndication_posts__state="published")))
        .filter(out__gt=0)
        .order_by("-out", "pk")
        .first()
    )
    if story is None:
        sys.exit("No published demo post: is `make run` (load_demo) done on this database?")
    return story.url, story.pk


def save(page, name: str) -> Path:
    path = OUT / name
    page.screenshot(path=str(path))
    if path.stat().st_size > MAX_BYTES:
        from PIL import Image

        with Image.open(path) as image:
            image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
                path, optimize=True
            )
    sys.stdout.write(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB\n")
    return path


def sign_in(page, url: str, username: str) -> None:
    """Sign in with one of the demo's logins (stories/demo; never a real site's)."""
    from stories.demo.loader import DEMO_PASSWORD

    page.context.clear_cookies()
    page.goto(f"{url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


def take(url: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("Chromium is missing: `bash .ci/ensure-chromium` installs Debian's package.")
    story_path, story_id = demo_story()
    OUT.mkdir(parents=True, exist_ok=True)
    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            # A reader at the end of the story: its conversation and where to go next.
            page.goto(url + story_path)
            heading = page.get_by_role("heading", name="Join the conversation")
            heading.wait_for()
            page.wait_for_load_state("networkidle")
            heading.evaluate(
                "h => window.scrollTo(0, h.getBoundingClientRect().top + window.scrollY - 140)"
            )
            # The cards' pictures load lazily, once scrolled into view.
            page.wait_for_function(
                """() => [...document.images]
                    .filter(i => i.getBoundingClientRect().top < innerHeight
                                 && i.getBoundingClientRect().bottom > 0)
                    .every(i => i.complete && i.naturalWidth > 0)"""
            )
            taken.append(save(page, "story-page.png"))

            # An editor writes a sales line; the voice check flags it beside the text.
            sign_in(page, url, "editor")
            page.goto(f"{url}/admin/pages/{story_id}/edit/")
            panel = page.locator("[data-voice-check]")
            panel.locator("[data-voice-status]").wait_for()
            editor = page.locator(".public-DraftEditor-content").first
            editor.click()
            page.keyboard.press("Control+End")
            page.keyboard.type(" " + SALES_LINE)
            panel.locator(".voice-check__finding").first.wait_for(timeout=30_000)
            panel.scroll_into_view_if_needed()
            taken.append(save(page, "editor-voice-check.png"))
            page.on("dialog", lambda dialog: dialog.accept())  # leave without saving

            # The social manager's post queue and the engagement report.
            sign_in(page, url, "socialmanager")
            page.goto(f"{url}/admin/syndication/posts/")
            page.locator("table.listing tbody tr").first.wait_for()
            taken.append(save(page, "post-queue.png"))
            page.goto(f"{url}/admin/reports/engagement/")
            page.locator("figure svg").first.wait_for()
            page.wait_for_load_state("networkidle")
            taken.append(save(page, "engagement-report.png"))
        finally:
            context.close()
            browser.close()
    return taken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running demo site")
    args = parser.parse_args()
    take(args.url.rstrip("/"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
