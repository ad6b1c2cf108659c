"""``manage.py train_voice``: split the voice corpus, learn the model, score it.

    manage.py train_voice --split        # (re)write corpus/train|dev|test.jsonl from corpus/raw
    manage.py train_voice                # learn from train, tune on dev, write model.json
    manage.py train_voice --evaluate dev # score the committed model through the real check

The test split is for the end of a piece of work: score it once and report what it says
(docs/voice.md, "The corpus").
"""

from django.core.management.base import BaseCommand, CommandError

from stories.voice import training


class Command(BaseCommand):
    help = "Split the voice corpus, learn the voice check's model from it, or score the model."

    def add_arguments(self, parser):
        parser.add_argument("--split", action="store_true", help="Write the splits from raw/.")
        parser.add_argument("--evaluate", choices=training.SPLITS, help="Score the model only.")

    def handle(self, *args, split=False, evaluate=None, **options):
        if split:
            try:
                counts = training.write_splits(training.read_raw())
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(", ".join(f"{name}: {n}" for name, n in counts.items()))
            return
        if evaluate:
            found, per_kind = training.evaluate(training.read_split(evaluate))
            self.stdout.write(f"{evaluate}: {found.line()}")
            for kind, (total, flagged) in per_kind.items():
                self.stdout.write(f"  {kind:<24} {flagged:>4} of {total:<4} flagged")
            return
        try:
            data, dev = training.train()
        except ImportError as error:
            raise CommandError("Training needs scikit-learn: pip install -e '.[test]'") from error
        training.write_model(data)
        self.stdout.write(
            f"model.json: {len(data['weights'])} weights, cutoff {data['cutoff']}, "
            f"C {data['about']['c']}; dev {dev.line()}"
        )
