"""What the diary tells the rest of the app, without importing it.

``diary_changed`` is sent by every diary service inside its own transaction, after writing, with
``patient_id``. Receivers run in that same transaction (Django signals are synchronous), so
whatever they record commits or rolls back with the diary write itself: the trends app marks
the patient's trends stale this way (``ldn_diary.trends.apps``). The diary never imports the
apps that listen.
"""

from __future__ import annotations

from django.dispatch import Signal

diary_changed = Signal()


def send_diary_changed(*, patient_id: int) -> None:
    diary_changed.send(sender="diary", patient_id=patient_id)
