"""Django's database sessions, taking only a session key Django itself could have made.

Django checks a key from the cookie for length only, so ``sessionid="abcdefgh\\000…"``
(a quoted cookie may carry octal escapes) reaches the query, and PostgreSQL refuses
the NUL: every page that looks at the user answered 500. Django makes keys of 32
lower-case letters and digits; anything else is treated as no session at all.
"""

import re

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

SESSION_KEY = re.compile(r"[a-z0-9]{8,64}", re.ASCII)


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return isinstance(key, str) and SESSION_KEY.fullmatch(key) is not None
