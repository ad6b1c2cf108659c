import json

from django.core.management.base import BaseCommand

from cms import status


def ago(part: dict | None) -> str:
    """ "4 min ago (2025-01-31T10:00:00+00:00)" for one of ``status``'s moments."""
    if not part:
        return "never"
    if "error" in part:
        return f"unknown ({part['error']})"
    seconds = part["seconds_ago"]
    if abs(seconds) < 120:
        span = f"{seconds} s"
    elif abs(seconds) < 7200:
        span = f"{seconds // 60} min"
    elif abs(seconds) < 172_800:
        span = f"{seconds // 3600} h"
    else:
        span = f"{seconds // 86_400} days"
    return f"{span} ago ({part['at']})"


class Command(BaseCommand):
    help = (
        "Is the background work keeping up? Queue depths, the oldest due post, the event "
        "stream and its last flush, the last channel-metrics collection, newsletter sends "
        "in progress and recent task failures. --json for machines."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        report = status.gather()
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(f"Storyloom status at {report['at']}")
        for title, lines in (
            ("Queues", self.queues(report["queues"])),
            ("Publishing", self.publishing(report["publishing"])),
            ("Engagement", self.engagement(report["engagement"])),
            ("Newsletter", self.newsletter(report["newsletter"])),
            ("Background task failures", self.failures(report["task_failures"])),
            ("Quarantined messages", self.quarantined(report["quarantined"])),
        ):
            self.stdout.write("")
            self.stdout.write(self.style.MIGRATE_HEADING(title))
            for label, value in lines:
                self.stdout.write(f"  {label:<24} {value}")

    def error(self, part):
        return [("error", self.style.ERROR(part["error"]))]

    def queues(self, part):
        lines = [("broker", part["broker"])]
        if "error" in part:
            return lines + self.error(part)
        lines += [(name, f"{count:,} waiting") for name, count in part["waiting"].items()]
        if part["unacknowledged"] is not None:
            lines.append(("taken, not yet done", f"{part['unacknowledged']:,}"))
        return lines

    def publishing(self, part):
        if "error" in part and len(part) == 1:
            return self.error(part)
        oldest = part["oldest_due"]
        return [
            (
                "oldest due post",
                f"#{oldest['id']} “{oldest['story']}” on {oldest['account']}, due {ago(oldest)}"
                if oldest
                else "none due",
            ),
            ("due, not yet claimed", f"{part['due']:,}"),
            ("publishing now", f"{part['publishing']:,}"),
            ("need a person", f"{part['needs_attention']:,} (unconfirmed, failed, missed)"),
            ("last dispatch", self.run(part["last_dispatch"])),
        ]

    def run(self, part):
        if part and part.get("state") not in (None, "", "SUCCESS"):
            return f"{ago(part)}, {part['state']}"
        return ago(part)

    def engagement(self, part):
        if "error" in part and len(part) == 1:
            return self.error(part)
        stream = part["stream"]
        if stream is None:
            waiting = "no stream (events are written to the database directly)"
        elif "error" in stream:
            waiting = f"{stream['name']}: {self.style.ERROR(stream['error'])}"
        else:
            waiting = (
                f"{stream['name']}: {stream['length']:,} waiting, "
                f"{stream['pending']:,} read but not yet counted"
            )
        batch = part["last_batch"]
        return [
            ("event stream", waiting),
            ("last flush", self.run(part["last_flush_run"])),
            (
                "last batch counted",
                f"{ago(batch)}, {batch['events']:,} events" if batch else "never",
            ),
            ("last metrics collection", self.run(part["last_metrics_run"])),
            ("last metrics snapshot", ago(part["last_snapshot"])),
        ]

    def newsletter(self, part):
        if "error" in part:
            return self.error(part)
        if not part["sending"]:
            return [("sending", "nothing")]
        return [
            (
                f"sending #{edition['id']}",
                f"“{edition['title']}”: {edition['sent']:,}/{edition['total']:,} sent"
                + (f", {edition['failed']:,} failed" if edition["failed"] else ""),
            )
            for edition in part["sending"]
        ]

    def failures(self, part):
        if "error" in part:
            return self.error(part)
        latest = part["latest"]
        lines = [
            (
                "last 24 hours",
                f"{part['last_24h']:,} kind(s), {part['occurrences']:,} time(s)"
                if part["last_24h"]
                else "none",
            )
        ]
        if latest:
            lines.append(("latest", f"{latest['task']}: {latest['error']}, {ago(latest)}"))
        return lines

    def quarantined(self, part):
        if "error" in part:
            return self.error(part)
        if not part["total"]:
            return [("in all", "none")]
        lines = [("in all", f"{part['total']:,} ({part['last_24h']:,} in the last 24 hours)")]
        lines += [
            (consumer, f"{counts['total']:,} ({counts['last_24h']:,} in the last 24 hours)")
            for consumer, counts in part["by_consumer"].items()
        ]
        latest = part["latest"]
        lines.append(("latest", f"{latest['consumer']}: {latest['error']}, {ago(latest)}"))
        return lines
