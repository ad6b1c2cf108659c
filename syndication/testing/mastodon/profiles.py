"""How each family of Mastodon-API server behaves, for ``MastodonTestServer(profile=…)``.

Each profile reproduces, from the project's public documentation and source, what the
publishing engine meets on that server: the NodeInfo software name and version, the
instance document, which scopes open ``verify_credentials``, whether the batch read
``GET /api/v1/statuses?id[]=`` exists (and how it is refused where it does not),
whether ``Idempotency-Key`` is honoured, the status code of a bad token, how length is
counted and what a too-long post gets, and whether status URLs say ``https://`` while
the server answers on plain http. ``sources`` on each profile says where each fact is
from; docs/syndication.md ("Mastodon-API servers") has the same table for people.

The default profile, ``MASTODON_4``, is what the test server always was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# How a family counts a status's length.
MASTODON_COUNT = "mastodon"  # graphemes, each URL 23, mentions without their domain
GRAPHEMES = "graphemes"  # graphemes, URLs in full
CODE_POINTS = "code points"  # raw characters (Go runes, Python len), URLs in full


@dataclass(frozen=True)
class ServerFamily:
    name: str
    #: NodeInfo ``software`` (None: the server publishes no NodeInfo).
    software: str | None
    version: str
    #: The instance document's ``version`` (non-Mastodon servers mimic Mastodon's).
    instance_version: str
    instance_v2: bool = True
    api_versions: dict | None = None
    #: ``configuration.statuses`` in the instance document (False: only ``max_toot_chars``).
    instance_configuration: bool = True
    characters_reserved_per_url: int = 23
    max_characters: int = 500
    counting: str = MASTODON_COUNT
    too_long_status: int = 422
    too_long_message: str = "Validation failed: Text character limit of {limit} exceeded"
    #: Scopes the server knows at app registration (None: it stores whatever it gets).
    known_scopes: frozenset[str] | None = None
    unknown_scope_status: int = 422
    #: Scopes of which one must be granted (exactly, or by its top level) for
    #: ``verify_credentials``.
    verify_scopes: tuple[str, ...] = ("profile", "read:accounts", "read")
    #: Only the exact scope opens it, never a granular child (Takahē asks for ``read``).
    verify_needs_exact: bool = False
    scope_error: tuple[int, dict] = (403, {"error": "This action is outside the authorized scopes"})
    #: Scopes ``/oauth/authorize`` grants; asking for others is sent back to the client
    #: as ``error=invalid_scope`` (Laravel Passport servers such as Pixelfed; None: any
    #: scope the app registered).
    authorize_scopes: frozenset[str] | None = None
    #: How a token that is unknown or revoked is answered: status, body, content type.
    bad_token: tuple[int, str, str] = (
        401,
        '{"error": "The access token is invalid"}',
        "application/json",
    )
    #: The batch read's parameter names (``id`` for ``id[]``), its maximum, or how a
    #: server without one answers: status, body, content type.
    batch_params: tuple[str, ...] = ("id",)
    batch_max: int = 20
    batch_refusal: tuple[int, str, str] | None = None
    idempotency: bool = True
    #: Pleroma keys the cache by the header alone, not per account.
    idempotency_per_account: bool = True
    idempotency_seconds: int = 3600
    #: Status ``url``/``uri`` written with https:// whatever the server is reached on.
    https_urls: bool = False
    #: The instance document's ``configuration.media_attachments`` (None: the family
    #: documents none), ``configuration.statuses.max_media_attachments``, and Akkoma's
    #: top-level ``upload_limit`` / ``description_limit`` of its v1 document (0: absent).
    #: The test server enforces the size (413), the types and the pixels (422).
    media: dict | None = None
    max_media_attachments: int = 4
    upload_limit: int = 0
    description_limit: int = 0
    sources: tuple[str, ...] = field(default_factory=tuple)


_MASTODON_TYPES = [
    *("image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp"),
    *("image/avif", "video/webm", "video/mp4", "video/quicktime", "audio/mpeg", "audio/ogg"),
]


MASTODON_4 = ServerFamily(
    name="mastodon-4",
    software="mastodon",
    version="4.3.0",
    instance_version="4.3.0",
    api_versions={"mastodon": 2},
    # 4.0+: 16 MB and 7680 × 4320 (8K) per image; description_limit only from 4.4.
    media={
        "supported_mime_types": _MASTODON_TYPES,
        "image_size_limit": 16_777_216,
        "image_matrix_limit": 33_177_600,
        "video_size_limit": 103_809_024,
        "video_frame_rate_limit": 120,
        "video_matrix_limit": 8_294_400,
    },
    sources=(
        "https://docs.joinmastodon.org/api/oauth-scopes/",
        "https://docs.joinmastodon.org/methods/statuses/#create (Idempotency-Key, 1 h)",
        "https://docs.joinmastodon.org/methods/statuses/#index (id[], 4.3+, at most 20)",
        "https://docs.joinmastodon.org/entities/Instance/",
        "https://docs.joinmastodon.org/user/posting/ (URLs count 23)",
        "https://github.com/mastodon/mastodon app/controllers/api/base_controller.rb (401)",
        "https://docs.joinmastodon.org/methods/media/ (v2: 200 or 202, 206 while processing)",
        "…/app/services/post_status_service.rb (422 media not found, not ready)",
    ),
)

MASTODON_3 = ServerFamily(
    name="mastodon-3",
    software="mastodon",
    version="3.5.3",
    instance_version="3.5.3",
    instance_v2=False,
    # 3.x knows no ``profile``: registering with it is refused (mastodon/mastodon#20892).
    known_scopes=frozenset(
        {"read", "write", "follow", "push", "admin:read", "admin:write"}
        | {f"read:{kind}" for kind in ("accounts", "statuses", "notifications", "search")}
        | {f"write:{kind}" for kind in ("statuses", "media", "favourites", "accounts")}
    ),
    verify_scopes=("read:accounts", "read"),
    # 3.x: 10 MB and 4096 × 4096 per image (the v1 document has configuration since 3.4.2).
    media={
        "supported_mime_types": _MASTODON_TYPES[:5],
        "image_size_limit": 10_485_760,
        "image_matrix_limit": 16_777_216,
    },
    # No batch route before 4.3: Rails' catch-all answers with its 404 page.
    batch_refusal=(
        404,
        "<!DOCTYPE html><html><body><h1>The page you are looking for isn't "
        "here.</h1></body></html>",
        "text/html; charset=utf-8",
    ),
    sources=(
        "https://docs.joinmastodon.org/entities/V1_Instance/ (v1 only, configuration 3.4.2+)",
        "https://docs.joinmastodon.org/api/oauth-scopes/ (profile is 4.3+)",
        "https://github.com/mastodon/mastodon/issues/20892 (unknown scope at registration)",
        "https://docs.joinmastodon.org/methods/statuses/ (batch read is 4.3+)",
    ),
)

GOTOSOCIAL = ServerFamily(
    name="gotosocial",
    software="gotosocial",
    version="0.20.0",
    instance_version="0.20.0",
    # Reports 25 per URL, but counts raw runes with URLs in full; too long is a 400.
    characters_reserved_per_url=25,
    max_characters=5000,
    counting=CODE_POINTS,
    too_long_status=400,
    too_long_message="Bad Request: status too long, {length} characters provided, "
    "maximum allowed characters is {limit}",
    verify_scopes=("profile", "read:accounts", "read"),
    scope_error=(403, {"error": "Forbidden: token has insufficient scope permission"}),
    bad_token=(401, '{"error": "Unauthorized: token not supplied"}', "application/json"),
    batch_refusal=(404, '{"error": "Not Found"}', "application/json"),
    idempotency=False,
    # media-local-max-size 40 MiB; no pixel limit, Mastodon's 4096 × 4096 reported for
    # compatibility; 6 attachments.
    media={
        "supported_mime_types": ["image/jpeg", "image/gif", "image/png", "image/webp"],
        "image_size_limit": 41_943_040,
        "image_matrix_limit": 16_777_216,
    },
    max_media_attachments=6,
    sources=(
        "https://github.com/superseriousbusiness/gotosocial internal/api/util/scopes.go",
        "…/internal/api/client/accounts/accountverify.go (profile or read:accounts)",
        "…/internal/processing/status/common.go (runes, 400 when too long)",
        "…/internal/typeutils/internaltofrontend.go (characters_reserved_per_url 25)",
        "…/internal/middleware/tokencheck.go (a bad token is dropped: 401)",
        "…/internal/middleware/cors.go (Idempotency-Key only allowed through CORS)",
        "…/docs/configuration/statuses.md (statuses-max-chars 5000)",
        "…/internal/api/model/instancev2.go (image_matrix_limit: Mastodon's 4096x4096)",
        "…/internal/config/defaults.go (media-local-max-size 40 MiB, 6 attachments)",
    ),
)

AKKOMA = ServerFamily(
    name="akkoma",
    software="akkoma",
    version="3.16.0",
    instance_version="2.7.2 (compatible; Akkoma 3.16.0)",
    instance_v2=False,
    instance_configuration=False,
    max_characters=5000,
    counting=GRAPHEMES,
    too_long_message="The status is over the character limit",
    # ``profile`` is stored but opens nothing: verify_credentials needs read:accounts.
    verify_scopes=("read:accounts", "read"),
    scope_error=(403, {"error": "Insufficient permissions: read:accounts."}),
    bad_token=(403, '{"error": "Invalid credentials."}', "application/json"),
    batch_params=("ids", "id"),
    batch_max=100,
    idempotency_per_account=False,
    idempotency_seconds=6 * 3600,
    # No configuration in the v1 document: upload_limit and description_limit at the top.
    upload_limit=16_000_000,
    description_limit=5000,
    sources=(
        "https://akkoma.dev/AkkomaGang/akkoma lib/pleroma/web/plugs/idempotency_plug.ex",
        "…/lib/pleroma/web/plugs/ensure_authenticated_plug.ex (403 Invalid credentials.)",
        "…/lib/pleroma/web/mastodon_api/controllers/status_controller.ex (ids[], 100)",
        "…/lib/pleroma/web/mastodon_api/views/instance_view.ex (v1, max_toot_chars)",
        "…/lib/pleroma/web/common_api/utils.ex (String.length, URLs in full)",
        "https://git.pleroma.social/pleroma/pleroma (same code upstream)",
    ),
)

PLEROMA = ServerFamily(
    name="pleroma",
    software="pleroma",
    version="2.7.0",
    instance_version="2.7.2 (compatible; Pleroma 2.7.0)",
    # Pleroma develop has /api/v2/instance, reporting 0 per URL (it counts URLs in full).
    characters_reserved_per_url=0,
    max_characters=5000,
    counting=GRAPHEMES,
    too_long_message="The status is over the character limit",
    verify_scopes=("read:accounts", "read"),
    scope_error=(403, {"error": "Insufficient permissions: read:accounts."}),
    bad_token=(403, '{"error": "Invalid credentials."}', "application/json"),
    batch_params=("ids", "id"),
    batch_max=100,
    idempotency_per_account=False,
    idempotency_seconds=6 * 3600,
    # "application/octet-stream": any type; the size is upload_limit.
    media={"supported_mime_types": ["application/octet-stream"], "image_size_limit": 16_000_000},
    description_limit=5000,
    sources=(
        "https://git.pleroma.social/pleroma/pleroma lib/pleroma/web/router.ex (v2 instance)",
        "…/lib/pleroma/web/mastodon_api/views/instance_view.ex (characters_reserved_per_url 0)",
        "…/lib/pleroma/web/plugs/idempotency_plug.ex (header value as the key, 6 h)",
        "…/lib/pleroma/web/mastodon_api/controllers/status_controller.ex (ids[] and id[])",
    ),
)

TAKAHE = ServerFamily(
    name="takahe",
    software="takahe",
    version="0.11.0",
    instance_version="takahe/0.11.0",
    counting=CODE_POINTS,
    too_long_status=400,
    too_long_message="Status is too long",
    # verify_credentials is @scope_required("read"): granular tokens are refused.
    verify_scopes=("read",),
    verify_needs_exact=True,
    scope_error=(403, {"error": "out_of_scope_for_token"}),
    bad_token=(400, "Invalid Bearer token", "text/plain"),
    # v1/statuses is an api_view.post: any other method is 405 with Django's empty page.
    batch_refusal=(
        405,
        "<!doctype html><title>405 Method Not Allowed</title>",
        "text/html; charset=utf-8",
    ),
    idempotency=False,
    https_urls=True,
    # 10 MiB and 2000 × 2000 per image (api/views/instance.py).
    media={
        "supported_mime_types": [
            *("image/apng", "image/avif", "image/gif", "image/jpeg", "image/png"),
            "image/webp",
        ],
        "image_size_limit": 10_485_760,
        "image_matrix_limit": 4_000_000,
    },
    sources=(
        "https://github.com/jointakahe/takahe api/middleware.py (400 Invalid Bearer token)",
        "…/api/views/accounts.py (verify_credentials: scope_required('read'))",
        "…/api/views/statuses.py (len(status) > post_length: 400; no Idempotency-Key)",
        "…/api/urls.py (v1/statuses: post_status only)",
        "…/api/views/instance.py (version takahe/…, 23 per URL)",
    ),
)

#: Sharkey, a Misskey fork with a Mastodon layer; Storyloom does not know it, so the
#: conservative profile applies. Its layer answered 401 for any upstream error, a post
#: too long included; v1 instance document only.
SHARKEY = ServerFamily(
    name="sharkey",
    software="sharkey",
    version="2024.9.1",
    instance_version="3.0.0 (compatible; Sharkey 2024.9.1; like Akkoma)",
    instance_v2=False,
    # "characters_reserved_per_url" is the length of the instance's URI string.
    characters_reserved_per_url=21,
    max_characters=3000,
    counting=CODE_POINTS,
    too_long_status=401,
    too_long_message="Note is too long",
    verify_scopes=("read", "read:accounts", "read:statuses"),
    bad_token=(401, '{"error": "Credential required."}', "application/json"),
    batch_refusal=(404, '{"error": "Not Found"}', "application/json"),
    idempotency=False,
    sources=(
        "https://github.com/transfem-org/Sharkey packages/backend/src/server/api/mastodon/"
        "MastodonApiServerService.ts (401 for any upstream error, 2023-12 and 2024.9)",
        "…/server/api/mastodon/endpoints/instance.ts (v1 only, maxNoteLength 3000)",
        "…/server/api/mastodon/endpoints/auth.ts (any read… scope becomes every read)",
        "…/server/NodeinfoServerService.ts (nodeinfo name sharkey)",
    ),
)

#: Software Storyloom does not know: it must fall back to the conservative profile.
UNKNOWN = ServerFamily(
    name="unknown",
    software="smolfedi",
    version="1.2.0",
    instance_version="1.2.0 (compatible; smolfedi 1.2.0)",
    counting=CODE_POINTS,
    idempotency=False,
    # A batch route that answers 200 with something that is not a list of statuses.
    batch_refusal=(200, '{"statuses": []}', "application/json"),
    sources=("An invented server: what Storyloom does when the software is unknown.",),
)

PROFILES = {
    p.name: p
    for p in (MASTODON_4, MASTODON_3, GOTOSOCIAL, AKKOMA, PLEROMA, TAKAHE, SHARKEY, UNKNOWN)
}
