"""``manage.py train_voice``: split the voice corpus, learn the model, score it.

    manage.py train_voice --split            # (re)write corpus/train|dev|test.jsonl from raw/
    manage.py train_voice                    # learn from train+test; C, the embedding's
                                             # scale and the cutoff chosen on the
                                             # writer-held-out folds; write model.json
    manage.py train_voice --evaluate dev     # score the committed model through the real check
    manage.py train_voice --evaluate heldout # the held-out set (heldout/*.jsonl): once, at the end

The old test split is training data now; the held-out set judges, and is scored once and
reported as it comes (docs/voice.md, "The corpus"). ``--folder`` reads the held-out items
from another folder (the tests use it; nothing else should).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stories.voice import training


class Command(BaseCommand):
    help = "Split the voice corpus, learn the voice check's model from it, or score the model."

    def add_arguments(self, parser):
        parser.add_argument("--split", action="store_true", help="Write the splits from raw/.")
        parser.add_argument(
            "--evaluate", choices=(*training.SPLITS, "heldout"), help="Score the model only."
        )
        parser.add_argument(
            "--folder", type=Path, default=None, help="Where the held-out items are."
        )

    def handle(self, *args, split=False, evaluate=None, folder=None, **options):
        if split:
            try:
                counts = training.write_splits(training.read_raw())
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(", ".join(f"{name}: {n}" for name, n in counts.items()))
            return
        if evaluate:
            self._evaluate(evaluate, folder)
            return
        if training.model.embeddings() is None:
            raise CommandError(
                "The embedding table is missing: python -m stories.voice.distil "
                "(pip install -e '.[voice-build]')"
            )
        try:
            data, found = training.train(log=self.stdout.write)
        except ImportError as error:
            raise CommandError("Training needs scikit-learn: pip install -e '.[test]'") from error
        training.write_model(data)
        about = data["about"]
        self.stdout.write(
            f"model.json: {len(data['weights'])} weights, cutoff {data['cutoff']}, "
            f"C {about['c']}, embedding x{about['embedding_scale']}, learned from "
            f"{' + '.join(training.LEARN_FROM)} ({about['trained_on']} items)"
        )
        for name, title in (
            ("writers", "writer-held-out (each batch by the model learned without it)"),
            ("cv", f"cross-validation ({training.FOLDS} folds, out of fold)"),
            ("dev", "dev (learned from by no model)"),
        ):
            for line in found[name].lines(title):
                self.stdout.write(line)
        for name in about["sources"]:
            self.stdout.write(f"writer-held-out, {name}: {found[name].overall.line()}")

    def _evaluate(self, name: str, folder: Path | None) -> None:
        if name == "heldout":
            try:
                rows = training.read_heldout(folder or training.HELDOUT)
            except ValueError as error:
                raise CommandError(str(error)) from error
            known = training.in_corpus(rows)
            if known:
                self.stdout.write(f"warning: {known} held-out items are also in the corpus")
        else:
            rows = training.read_split(name)
        for line in training.evaluate(rows).lines(f"{name} ({len(rows)} items)"):
            self.stdout.write(line)
