"""Voice-check benchmark: how long ``stories.voice.check`` takes on a long story.

Builds a story of about 3,000 words from plain narrative paragraphs with a few salesy sentences
mixed in, runs ``check()`` on it repeatedly after a warm-up, and also times one pass over a
megabyte of the same material to show the regexes stay linear. The learned layer
(``stories/voice/model.json`` and, when the model reads it, the sentence-embedding table
``embeddings.npy``) is included; the story is also timed with the rules alone, and the
model's load time and memory (weights, table and vocabulary, numpy included) are measured in
a fresh interpreter and printed as a row of the table and in the JSON line.

The sentence reader (``reader.py``) reads texts of up to five sentences, so ``check()`` of the
whole story does not run it; the story as the publishing gate and the editor's panel check it
(the whole, then each paragraph, ``voice_review.check_texts``) does: timed with the reader's
cache emptied before every run (cold: a story nobody has checked) and kept (warm: a re-check
after an edit), and a 40-word social post, cold. The reader's load time and the memory it
adds (resident, as onnxruntime allocates outside Python) are measured in a fresh interpreter.

    .venv/bin/python bench/voice.py [--words N] [--runs R]

Stdout carries a small table, then, as its last line, one JSON object:
{"words": N, "ms_median": X, "rules_only_ms_median": Y, "model_load_ms": L, "model_kib": M,
 "gate_cold_ms_median": G, "gate_warm_ms_median": W, "post_cold_ms_median": P,
 "reader_load_ms": RL, "reader_rss_kib": RM}
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stories.voice import check, model, reader

LOAD = """
import time, tracemalloc
tracemalloc.start()
began = time.perf_counter()
from stories.voice import model
model.load()
print((time.perf_counter() - began) * 1000, tracemalloc.get_traced_memory()[0] / 1024)
"""

READER_LOAD = """
import time
from stories.voice import engine, reader

def resident():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

before = resident()
began = time.perf_counter()
found = reader.load()
found.probability("A first passage, read once.")
print((time.perf_counter() - began) * 1000, resident() - before)
"""

POST = (
    "Our volunteers planted forty oaks along the canal path this weekend. Trusted by thousands "
    "of gardeners across the county, our tree packs make it easy to do the same at home, and "
    "delivery is free this month."
)

PARAGRAPHS = (
    "When the river rose in the spring of 2019, the bakery on Mill Lane was the first building "
    "to flood. Ayesha had run it for eleven years, and she spent the first night carrying sacks "
    "of flour up the stairs by torchlight while her son held the door against the current.",
    "The insurance assessor arrived on a Thursday, wearing wellingtons two sizes too big. He "
    "walked through the kitchen slowly, photographing the tide line on the wall, and asked "
    "about the ovens, the mixer and the old brass scales her grandfather had bought in 1962.",
    "Nobody tells you how quiet a shop becomes when it is closed for repairs. The regulars kept "
    "knocking anyway. Mr Okafor left a note every morning, and a girl from the primary school "
    "pushed a drawing of a loaf with legs under the shutter.",
    "Rebuilding took five months. The floor was dug up and relaid, the wiring was moved to "
    "shoulder height, and the new counter was made from the boards of the old one, sanded back "
    "until the grain showed through like the rings of a tree.",
    "Prices for flour had doubled by the time the doors reopened, and Ayesha spent a long "
    "evening with a calculator deciding what a loaf should cost. In the end she kept the small "
    "white loaf at the old price and raised everything else a little.",
    "On the first morning there was a queue round the corner before six. 'You came back!' "
    "someone shouted, and she laughed and said she had never really left; she had only been "
    "upstairs, waiting for the plaster to dry.",
    "Her son still works the early shift on Saturdays. He says the best part of the job is the "
    "hour before opening, when the street is empty and the bread is cooling on the racks and "
    "nobody needs anything from him yet.",
    "If you are preparing a small business for flood season, start by photographing every room "
    "and writing down the serial numbers of your equipment. Keep the list somewhere dry, and "
    "send a copy to someone who lives on higher ground.",
)
SALESY = (
    "Book your table today and get 20% off your first visit!",
    "Only a few spots left in our award-winning bread school — sign up now.",
    "Don't miss out: our biggest sale of the year ends Friday.",
)


def build_story(words: int) -> str:
    """Plain paragraphs, with a salesy sentence slipped in every few paragraphs."""
    parts: list[str] = []
    count = 0
    i = 0
    while count < words:
        paragraph = PARAGRAPHS[i % len(PARAGRAPHS)]
        if i % 5 == 4:
            paragraph = f"{paragraph} {SALESY[(i // 5) % len(SALESY)]}"
        parts.append(paragraph)
        count += len(paragraph.split())
        i += 1
    return "\n\n".join(parts)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def time_once(text: str) -> tuple[float, int]:
    began = time.perf_counter()
    report = check(text)
    return (time.perf_counter() - began) * 1000, len(report.findings)


def fresh(code: str) -> list[str]:
    """What ``code`` prints, run in a fresh interpreter from the project's folder."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout.split()


def gate_once(paragraphs: list[str], whole: str, cold: bool) -> float:
    """The story as ``voice_review.check_texts`` reads it: the whole, then every paragraph."""
    if cold:
        reader.load()._cache.clear()
    began = time.perf_counter()
    check(whole)
    for paragraph in paragraphs:
        check(paragraph)
    return (time.perf_counter() - began) * 1000


def post_once() -> float:
    reader.load()._cache.clear()
    began = time.perf_counter()
    check(POST)
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    runs = max(30, args.runs)

    story = build_story(args.words)
    word_count = len(story.split())
    for _ in range(5):
        check(story)
    timings = []
    findings = 0
    for _ in range(runs):
        elapsed, findings = time_once(story)
        timings.append(elapsed)
    median = statistics.median(timings)

    real_load = model.load
    model.load = lambda path=None: None  # the rules alone
    rules_only = []
    for _ in range(runs):
        rules_only.append(time_once(story)[0])
    model.load = real_load
    rules_median = statistics.median(rules_only)

    # In a fresh interpreter: loading the package with the model, the model's part apart.
    base = fresh(LOAD.replace("model.load()", ""))
    loaded = fresh(LOAD)
    load_ms = float(loaded[0]) - float(base[0])
    model_kib = float(loaded[1]) - float(base[1])

    paragraphs = story.split("\n\n")
    gate_runs = max(10, runs // 3)
    gate_cold = [gate_once(paragraphs, story, cold=True) for _ in range(gate_runs)]
    gate_warm = [gate_once(paragraphs, story, cold=False) for _ in range(gate_runs)]
    post_cold = [post_once() for _ in range(runs)]
    reader_found = fresh(READER_LOAD)
    reader_ms, reader_kib = float(reader_found[0]), float(reader_found[1])

    megabyte = (story + "\n\n") * (1_000_000 // (len(story) + 2) + 1)
    megabyte = megabyte[:1_000_000]
    mb_ms, mb_findings = time_once(megabyte)

    rows = [
        ("text", "words", "runs", "median ms", "p90 ms", "findings"),
        (
            "story",
            str(word_count),
            str(runs),
            f"{median:.2f}",
            f"{percentile(timings, 0.9):.2f}",
            str(findings),
        ),
        (
            "story, rules only",
            str(word_count),
            str(runs),
            f"{rules_median:.2f}",
            f"{percentile(rules_only, 0.9):.2f}",
            "",
        ),
        (
            f"story as the gate reads it ({len(paragraphs)} paragraphs), reader cold",
            str(word_count),
            str(gate_runs),
            f"{statistics.median(gate_cold):.2f}",
            f"{percentile(gate_cold, 0.9):.2f}",
            "",
        ),
        (
            "story as the gate reads it, reader warm",
            str(word_count),
            str(gate_runs),
            f"{statistics.median(gate_warm):.2f}",
            f"{percentile(gate_warm, 0.9):.2f}",
            "",
        ),
        (
            "social post, reader cold",
            str(len(POST.split())),
            str(runs),
            f"{statistics.median(post_cold):.2f}",
            f"{percentile(post_cold, 0.9):.2f}",
            "",
        ),
        ("1 MB", str(len(megabyte.split())), "1", f"{mb_ms:.2f}", f"{mb_ms:.2f}", str(mb_findings)),
        ("model load", "", "1", f"{load_ms:.2f}", "", f"{model_kib:.0f} KiB held"),
        ("reader load", "", "1", f"{reader_ms:.2f}", "", f"{reader_kib:.0f} KiB resident"),
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.rjust(widths[c]) for c, cell in enumerate(row)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"model: loads in {load_ms:.1f} ms, holds {model_kib:.0f} KiB")
    print(f"reader: loads in {reader_ms:.1f} ms, adds {reader_kib:.0f} KiB resident")
    print(
        json.dumps(
            {
                "words": word_count,
                "ms_median": round(median, 2),
                "rules_only_ms_median": round(rules_median, 2),
                "model_load_ms": round(load_ms, 1),
                "model_kib": round(model_kib),
                "gate_cold_ms_median": round(statistics.median(gate_cold), 2),
                "gate_warm_ms_median": round(statistics.median(gate_warm), 2),
                "post_cold_ms_median": round(statistics.median(post_cold), 2),
                "reader_load_ms": round(reader_ms, 1),
                "reader_rss_kib": round(reader_kib),
            }
        )
    )


if __name__ == "__main__":
    main()
