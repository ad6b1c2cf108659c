"""Pictures on the Mastodon test server: uploads, processing, attachments (issue 21).

The routes Storyloom uses, with Mastodon's shapes and errors
(https://docs.joinmastodon.org/methods/media/, ``app/services/post_status_service.rb``):

* ``POST /api/v2/media`` (multipart ``file``, ``description``, ``focus``): 200 with a
  ``url`` at once, as Mastodon 4 answers for images; with ``media_processing_polls = N``
  202 with ``url: null``, and ``GET /api/v1/media/:id`` answers 206 until its Nth call,
  which is 200 with the ``url``. A file over the profile's ``image_size_limit`` is 413,
  a type it does not list 422, no file 422; ``write`` or ``write:media`` is needed.
* ``GET /api/v1/media/:id``: the attachment (404 once attached or deleted, as Mastodon,
  which looks only among the account's unattached media).
* ``media_ids[]`` on ``POST /api/v1/statuses``: an id that is unknown, someone else's or
  already attached is 422 "Media … not found or already attached to another post"
  (Mastodon 4.x); one still processing 422 "Cannot attach files that have not finished
  processing. Try again in a moment!"; more than 4, 422. The status lists them as
  ``media_attachments`` with their ``description``.
* ``expire_media()`` does what Mastodon's daily cleanup does to uploads no status used.

``MediaRoutes`` is mixed into ``MastodonTestServer``; ``parse_multipart`` reads the body.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import itertools
import time

MEDIA_LIMIT = 4
NOT_FOUND = "Media {ids} not found or already attached to another post"
NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"
TOO_MANY = "Cannot attach more than 4 files"


def parse_multipart(content_type: str, raw: bytes) -> tuple[dict[str, list[str]], dict]:
    """``multipart/form-data`` as ``(fields, files)``: fields by name (``name[]`` under
    ``name``), files as ``{name: (filename, content_type, bytes)}``."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: dict[str, list[str]] = {}
    files: dict = {}
    for part in message.iter_parts():
        name = (part.get_param("name", header="content-disposition") or "").removesuffix("[]")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, part.get_content_type(), payload)
        else:
            fields.setdefault(name, []).append(payload.decode("utf-8", "replace"))
    return fields, files


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height when ``data`` is an image Pillow reads, else None."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as opened:
            return opened.size
    except Exception:
        return None


class MediaRoutes:
    """The media half of ``MastodonTestServer``: state lives behind the server's lock."""

    #: Polls of ``GET /api/v1/media/:id`` before an upload is processed (0: at once).
    media_processing_polls = 0

    def _init_media(self) -> None:
        self._media: dict[str, dict] = {}
        self._media_ids = itertools.count(110_000_000_000_000_001)
        self.media_uploads = 0

    # --- For tests --------------------------------------------------------------------
    @property
    def media(self) -> list[dict]:
        """Every upload still on the server: the attachment entity plus ``size``,
        ``account_id``, ``status_id`` and ``data`` (the bytes received)."""
        with self.lock:
            return [
                {**self._attachment(record), **_inspect(record)} for record in self._media.values()
            ]

    def expire_media(self, media_id: str | None = None) -> int:
        """Delete uploads no status uses (all, or ``media_id``), as Mastodon does to
        unattached media after a day. Returns how many went."""
        with self.lock:
            gone = [
                key
                for key, record in self._media.items()
                if record["status_id"] is None and media_id in (None, key)
            ]
            for key in gone:
                del self._media[key]
        return len(gone)

    # --- Routes -----------------------------------------------------------------------
    def _create_media(self, request) -> object:
        with self.lock:
            account, error = self._authorize(request, "write", "write:media")
            if error:
                return error
            self.media_uploads += 1
        upload = request.files.get("file")
        if upload is None:
            return self._reply_error(422, "Validation failed: File can't be blank")
        filename, content_type, data = upload
        config = self.profile.media or {}
        limit = config.get("image_size_limit") or self.profile.upload_limit
        if limit and len(data) > limit:
            return self._reply_error(413, "Request Entity Too Large")
        allowed = config.get("supported_mime_types")
        if allowed and content_type not in allowed and "application/octet-stream" not in allowed:
            return self._reply_error(
                422, f"Validation failed: File content type {content_type} is invalid"
            )
        size = image_size(data)
        if size is None:
            return self._reply_error(422, "Validation failed: File could not be processed")
        matrix = config.get("image_matrix_limit")
        if matrix and size[0] * size[1] > matrix:
            return self._reply_error(
                422, "Validation failed: File dimensions are larger than allowed"
            )
        x, y = _focus(request.one("focus"))
        with self.lock:
            record = {
                "id": str(next(self._media_ids)),
                "account_id": account["id"],
                "status_id": None,
                "description": request.one("description") or None,
                "focus": {"x": x, "y": y},
                "mime": content_type,
                "filename": filename,
                "data": data,
                "width": size[0],
                "height": size[1],
                "polls_left": self.media_processing_polls,
                "created": time.monotonic(),
            }
            self._media[record["id"]] = record
            processing = record["polls_left"] > 0
            return self._reply_json(202 if processing else 200, self._attachment(record))

    def _media_item(self, request, media_id: str) -> object:
        with self.lock:
            account, error = self._authorize(request, "write", "write:media")
            if error:
                return error
            record = self._media.get(media_id)
            if record is None or record["account_id"] != account["id"] or record["status_id"]:
                return self._reply_error(404, "Record not found")
            if record["polls_left"] > 0:
                record["polls_left"] -= 1
            return self._reply_json(206 if record["polls_left"] else 200, self._attachment(record))

    # --- Attaching (called by the status route, under the lock) ---------------------
    def _take_media(self, account: dict, ids: list[str]):
        """``(records, None)`` for the media a new status may attach, or ``(None, error
        reply)`` as Mastodon's ``PostStatusService#validate_media!``."""
        if not ids:
            return [], None
        if len(ids) > MEDIA_LIMIT:
            return None, self._reply_error(422, TOO_MANY)
        found = [
            self._media.get(media_id)
            for media_id in ids
            if (record := self._media.get(media_id))
            and record["account_id"] == account["id"]
            and record["status_id"] is None
        ]
        missing = [media_id for media_id in ids if media_id not in {r["id"] for r in found}]
        if missing:
            return None, self._reply_error(422, NOT_FOUND.format(ids=", ".join(missing)))
        if any(record["polls_left"] > 0 for record in found):
            return None, self._reply_error(422, NOT_READY)
        return found, None

    def _attachment(self, record: dict) -> dict:
        processing = record["polls_left"] > 0
        url = None if processing else f"{self.url}/system/media/{record['id']}/original.jpg"
        width, height = record["width"], record["height"]
        return {
            "id": record["id"],
            "type": "image",
            "url": url,
            "preview_url": f"{self.url}/system/media/{record['id']}/small.jpg",
            "remote_url": None,
            "description": record["description"],
            "blurhash": None,
            "meta": {
                "original": {
                    "width": width,
                    "height": height,
                    "size": f"{width}x{height}",
                    "aspect": round(width / height, 6) if height else None,
                },
                "focus": record["focus"],
            },
        }


def _inspect(record: dict) -> dict:
    return {
        "account_id": record["account_id"],
        "status_id": record["status_id"],
        "bytes": len(record["data"]),
        "mime": record["mime"],
        "data": record["data"],
    }


def _focus(value: str) -> tuple[float, float]:
    try:
        x, y = (float(part) for part in value.split(","))
    except ValueError:
        return 0.0, 0.0
    return max(-1.0, min(1.0, x)), max(-1.0, min(1.0, y))
