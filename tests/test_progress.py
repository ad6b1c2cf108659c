"""``cms.progress``: a bar with rate and ETA, quiet in logs, redrawn on a terminal."""

import io
import re

from django.core.management import call_command

import pytest

from cms.progress import Progress, clock, progress

LINE = re.compile(
    r"^Stories  \[[# ]{20}\]  (?P<done>[\d,]+)/10  (?P<rate>[\d.,]+/s|-/s)  "
    r"(?:ETA (?P<eta>\d+:\d\d|-:--)|done in (?P<took>\d+:\d\d))$"
)


class Clock:
    """A clock the test moves: one second per item."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(stream, items=10, fail_at=None):
    ticks = Clock()
    bar = Progress(range(items), label="Stories", stream=stream, now=ticks)
    for item in bar:
        if item == fail_at:
            raise RuntimeError("stopped")
        ticks.now += 1
    return bar


def test_into_a_log_a_line_each_tenth_with_rate_and_eta_and_a_complete_last_line():
    out = io.StringIO()
    run(out)
    lines = out.getvalue().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [m["done"] for m in parsed] == [str(n) for n in range(1, 10)] + ["10"]
    assert parsed[4]["rate"] == "1.0/s" and parsed[4]["eta"] == "0:05"
    assert lines[-1] == "Stories  [####################]  10/10  1.0/s  done in 0:10"
    assert "\r" not in out.getvalue()


def test_on_a_terminal_the_line_is_redrawn_in_place():
    out = Terminal()
    run(out)
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.count("\r") == 11  # ten steps a second apart, and the last line
    assert text.split("\r")[-1] == "Stories  [####################]  10/10  1.0/s  done in 0:10\n"
    assert "ETA 0:05" in text


def test_work_that_raises_says_where_it_stopped():
    out = io.StringIO()
    with pytest.raises(RuntimeError):
        run(out, fail_at=3)
    assert out.getvalue().splitlines()[-1] == (
        "Stories  [######              ]  3/10  1.0/s  stopped after 0:03"
    )


def test_counting_by_hand_with_unknown_total():
    out = io.StringIO()
    with progress(label="Rows", stream=out) as bar:
        bar.advance(1500)
        bar.advance(500)
    last = out.getvalue().splitlines()[-1]
    assert re.fullmatch(r"Rows  2,000  [\d,.]+/s  done in 0:00", last), last
    assert "ETA" not in out.getvalue() and "[" not in out.getvalue()


def test_a_management_command_s_stderr_is_unwrapped():
    from django.core.management.base import OutputWrapper

    out = io.StringIO()
    with progress(total=2, label="Posts", stream=OutputWrapper(out)) as bar:
        bar.advance(2)
    assert out.getvalue().splitlines()[-1].startswith("Posts  [####################]  2/2  ")


def test_clock():
    assert (clock(4), clock(750), clock(3723)) == ("0:04", "12:30", "1:02:03")


def test_load_demo_shows_a_bar_per_phase(tree):
    err = io.StringIO()
    call_command("load_demo", stories=60, stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    finals = [line for line in lines if "done in" in line]
    assert len(finals) == 2, lines
    assert re.fullmatch(r"Demo stories  \[#{20}\]  46/46  [\d.,]+/s  done in \d+:\d\d", finals[0])
    # Seed 003's insurer story is made beside the 46 (without a bar): 60 - 47 generated.
    generated = r"Generated stories  \[#{20}\]  13/13  [\d.,-]+/s  done in 0:0\d"
    assert re.fullmatch(generated, finals[1])
    assert finals[1] == lines[-1]
    assert any(re.search(r"Demo stories .* ETA \d+:\d\d$", line) for line in lines)
