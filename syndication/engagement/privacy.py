"""Daily visitor hashes that cannot be rebuilt once their day's salt is gone.

A visitor is ``sha256(salt, IP, user agent, site host)`` under a random salt kept
for one day (Plausible's scheme): the same reader on the same day gets the same
hash, tomorrow a different one, and after ``rotate_salts`` deletes the salt nobody,
us included, can tell which IP address a hash came from. The IP address and user
agent themselves are never stored.
"""

import datetime
import hashlib
import secrets
import threading
import time

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import DailySalt

_lock = threading.Lock()
_today: tuple[datetime.date, str] | None = None
_day: tuple[datetime.date, float] | None = None


def today() -> datetime.date:
    """The site's local date, worked out once a day: every event needs it."""
    global _day
    cached = _day
    if cached is not None and time.time() < cached[1]:
        return cached[0]
    now = timezone.localtime()
    day = now.date()
    midnight = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time(), now.tzinfo
    )
    _day = (day, midnight.timestamp())
    return day


def salt_for(day: datetime.date) -> str:
    """The salt of ``day``, created on first use (by whichever process gets there first)."""
    salt = DailySalt.objects.filter(day=day).values_list("salt", flat=True).first()
    if salt is None:
        try:
            with transaction.atomic():  # a savepoint: a lost race must not spoil the caller's
                salt = DailySalt.objects.create(day=day, salt=secrets.token_hex(32)).salt
        except IntegrityError:  # another process created it first
            salt = DailySalt.objects.get(day=day).salt
    return salt


def todays_salt() -> str:
    """Today's salt, read from the database once per day per process."""
    global _today
    day = today()
    cached = _today
    if cached is not None and cached[0] == day:
        return cached[1]
    with _lock:
        if _today is None or _today[0] != day:
            _today = (day, salt_for(day))
        return _today[1]


def forget_salt() -> None:
    """Drop this process's copy of today's salt and date (tests)."""
    global _today, _day
    _today = _day = None


def visitor_hash(ip: str, user_agent: str, site_host: str, salt: str | None = None) -> str:
    salt = todays_salt() if salt is None else salt
    material = "\x00".join((salt, ip, user_agent, site_host))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


def rotate_salts() -> int:
    """Delete every salt older than yesterday; returns how many went."""
    yesterday = today() - datetime.timedelta(days=1)
    deleted, _ = DailySalt.objects.filter(day__lt=yesterday).delete()
    return deleted
