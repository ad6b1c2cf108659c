"""Which rows are demo data: ``cms.DemoRecord`` rows name them (and the steps taken).

``mark`` records rows the demo made (or adopted: the same rows from an earlier demo);
``ids`` reads them back for ``remove_demo``; ``done``/``record_step`` keep the steps
that add to counters (history, collected metrics) to once.
"""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType

from cms.models import DemoRecord


def mark(kind: str, objects: Iterable) -> int:
    """Record ``objects`` (model instances) as demo data under ``kind``; once each."""
    rows = []
    for obj in objects:
        content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        rows.append(DemoRecord(kind=kind, content_type=content_type, object_id=str(obj.pk)))
    DemoRecord.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def mark_ids(kind: str, model, pks: Iterable) -> None:
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    DemoRecord.objects.bulk_create(
        [DemoRecord(kind=kind, content_type=content_type, object_id=str(pk)) for pk in pks],
        ignore_conflicts=True,
        batch_size=2000,
    )


def ids(kind: str) -> list[str]:
    return list(
        DemoRecord.objects.filter(kind=kind, content_type__isnull=False).values_list(
            "object_id", flat=True
        )
    )


def int_ids(kind: str) -> list[int]:
    return [int(pk) for pk in ids(kind)]


def done(step: str) -> bool:
    return DemoRecord.objects.filter(kind=f"step:{step}", content_type__isnull=True).exists()


def record_step(step: str) -> None:
    DemoRecord.objects.get_or_create(kind=f"step:{step}", content_type=None, object_id="")


def any_demo() -> bool:
    return DemoRecord.objects.exists()
