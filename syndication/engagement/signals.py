"""What engagement announces to the apps built on it, which it never imports.

Dependencies run one way (newsletter → engagement → stories): an app above listens here
instead of engagement calling it (docs/architecture.md).
"""

from django.dispatch import Signal

#: Sent by the flusher for the reads among a batch it counts (engaged reads and
#: read-throughs, ``events.READ_EVENTS``), after the rollups and inside the batch's
#: transaction — under the savepoint of each entry when a batch is written entry by
#: entry. Arguments: ``entries``, the reads' fields as the collector wrote them (a dict
#: of text per event), and ``story_ids``, the stories that still exist. A receiver
#: writes in the same transaction, so what it records is committed exactly once with
#: the batch; an error it raises refuses the batch (or the entry) like the rollups' own.
#: The newsletter's ``SubscriberRead`` rows are written this way (docs/newsletter.md).
reads_counted = Signal()
