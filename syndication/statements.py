"""The publishing engine's hot statements, as SQL written once per process.

Why not the ORM here: a publish is half a dozen tiny statements (take the post, mark it
sent, settle it, log it), and profiling ``publish_post`` on PostgreSQL showed Django
compiling them (``as_sql``, ``build_filter``, ``add_q``) costing more CPU than running
them. The statements below are the same conditional UPDATEs and INSERT the ORM would
send; only their text is built once, from the models' metadata (table and column
names), and kept per process, while every parameter is still prepared by its model
field (``get_db_prep_value`` / ``get_db_prep_save``), so a UUID or a datetime is
stored exactly as the ORM stores it, on PostgreSQL and on SQLite alike. Everything
else, and anything unusual (an expression as a value), stays with the ORM.

``start_and_read`` takes a claimed post and reads it in one statement with
``UPDATE … RETURNING``, which PostgreSQL and SQLite (3.35 and later) have and Django's
ORM does not offer for updates. Where the database lacks it, the same two steps run
through the ORM, as before.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import F, Model

#: SQL text per (database vendor, model, statement shape). Bounded: the shapes come
#: from the engine's code, never from data.
_sql: dict = {}


class _Null:
    """``where`` value meaning ``IS NULL``."""


IS_NULL = _Null()


def _connection(model):
    return connections[router.db_for_write(model)]


def _column(model, name: str):
    field = model._meta.get_field(name)
    return field, field.column


def update(model, pk, *, where: dict, values: dict, increment: tuple = ()) -> int:
    """``UPDATE model SET values…, increment = increment + 1 WHERE pk AND where…``;
    returns the number of rows changed (0 or 1).

    ``where`` maps field names to a value (equal), a tuple/list/set of values (one of
    them) or ``IS_NULL``. A value that is an expression goes through the ORM instead.
    """
    if any(hasattr(value, "resolve_expression") for value in values.values()):
        query = model._default_manager.filter(pk=pk)
        for name, value in where.items():
            if value is IS_NULL:
                query = query.filter(**{f"{name}__isnull": True})
            elif isinstance(value, tuple | list | set | frozenset):
                query = query.filter(**{f"{name}__in": value})
            else:
                query = query.filter(**{name: value})
        extra = {name: F(name) + 1 for name in increment}
        return query.update(**values, **extra)
    connection = _connection(model)
    where_items = [
        (name, sorted(value) if isinstance(value, set | frozenset) else value)
        for name, value in where.items()
    ]
    shape = tuple(
        (
            name,
            len(value)
            if isinstance(value, tuple | list)
            else ("null" if value is IS_NULL else "="),
        )
        for name, value in where_items
    )
    key = (connection.vendor, model, "update", tuple(values), tuple(increment), shape)
    sql = _sql.get(key)
    if sql is None:
        sql = _sql[key] = _update_sql(connection, model, values, increment, shape)
    params = []
    for name, value in values.items():
        field = model._meta.get_field(name)
        if isinstance(value, Model):
            value = value.pk
        params.append(field.get_db_prep_save(value, connection))
    params.append(model._meta.pk.get_db_prep_value(pk, connection))
    for name, value in where_items:
        if value is IS_NULL:
            continue
        field = model._meta.get_field(name)
        for item in value if isinstance(value, tuple | list) else (value,):
            params.append(field.get_db_prep_value(item, connection, prepared=False))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _update_sql(connection, model, values, increment, shape) -> str:
    quote = connection.ops.quote_name
    sets = [f"{quote(_column(model, name)[1])} = %s" for name in values]
    for name in increment:
        column = quote(_column(model, name)[1])
        sets.append(f"{column} = {column} + 1")
    conditions = [f"{quote(model._meta.pk.column)} = %s"]
    for name, kind in shape:
        column = quote(_column(model, name)[1])
        if kind == "null":
            conditions.append(f"{column} IS NULL")
        elif kind == "=":
            conditions.append(f"{column} = %s")
        else:
            conditions.append(f"{column} IN ({', '.join(['%s'] * kind)})")
    # Names from the models' metadata, quoted; every value is a parameter.
    return (
        f"UPDATE {quote(model._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608
        f"WHERE {' AND '.join(conditions)}"
    )


def returns_rows(model) -> bool:
    """Whether the model's database has ``UPDATE/INSERT … RETURNING``."""
    return bool(_connection(model).features.can_return_columns_from_insert)


def insert(obj: Model) -> Model:
    """Save a new ``obj`` with one INSERT (its fields' defaults and ``pre_save`` as
    ``Model.save`` applies them); its primary key is set from ``RETURNING``."""
    model = type(obj)
    connection = _connection(model)
    if not returns_rows(model):
        obj.save(force_insert=True)
        return obj
    fields = [field for field in model._meta.local_concrete_fields if not field.primary_key]
    key = (connection.vendor, model, "insert")
    sql = _sql.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        sql = _sql[key] = (
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"RETURNING {quote(model._meta.pk.column)}"
        )
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # All rows: SQLite finishes (and, outside a transaction, commits) the statement
        # only once its result is read to the end.
        rows = cursor.fetchall()
    obj.pk = rows[0][0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def start_post(model, picture_model, post_id: int, claim, now, publishing: str):
    """Take a claimed post for the task holding ``claim`` and read it, in one statement:
    ``started_at`` stamped only if the post is still in the ``publishing`` state under
    that claim and not started yet (``publishing.start``), the row as it now is returned
    with whether it has pictures and related stories (``has_pictures``, ``has_related``).

    ``model`` is ``SyndicationPost`` and ``picture_model`` ``PostPicture``, passed in: the
    models use this module, so it does not import them.

    None when the task does not get the post (another copy started it, the claim moved
    on, the post is gone). The caller reads the account apart.
    """
    connection = _connection(model)
    key = (connection.vendor, model, "start")
    sql = _sql.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        pk = f"{table}.{quote(model._meta.pk.column)}"
        through = model.related_stories.through
        owner = through._meta.get_field("syndicationpost").column
        pictures = picture_model._meta.get_field("post").column
        columns = ", ".join(
            f"{table}.{quote(field.column)}" for field in model._meta.concrete_fields
        )
        sql = _sql[key] = (
            f"UPDATE {table} SET {quote(_column(model, 'started_at')[1])} = %s "  # noqa: S608
            f"WHERE {pk} = %s AND {quote(_column(model, 'state')[1])} = %s "
            f"AND {quote(_column(model, 'claim')[1])} = %s "
            f"AND {quote(_column(model, 'started_at')[1])} IS NULL "
            f"RETURNING {columns}, "
            f"EXISTS (SELECT 1 FROM {quote(picture_model._meta.db_table)} "
            f"WHERE {quote(pictures)} = {pk}) AS has_pictures, "
            f"EXISTS (SELECT 1 FROM {quote(through._meta.db_table)} "
            f"WHERE {quote(owner)} = {pk}) AS has_related"
        )
    params = [
        _column(model, "started_at")[0].get_db_prep_save(now, connection),
        model._meta.pk.get_db_prep_value(post_id, connection),
        publishing,
        _column(model, "claim")[0].get_db_prep_value(claim, connection, prepared=False),
    ]
    rows = _fetch(connection, sql, params)
    if not rows:
        return None
    post = _instance(model, connection, rows[0])
    post.has_pictures, post.has_related = (bool(value) for value in rows[0][-2:])
    return post


def read(model, pk):
    """The row ``pk`` of ``model`` as an instance (None when there is none): ``objects.get``
    without compiling the query each time."""
    connection = _connection(model)
    key = (connection.vendor, model, "read")
    sql = _sql.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
        sql = _sql[key] = (
            f"SELECT {columns} FROM {table} "  # noqa: S608
            f"WHERE {quote(model._meta.pk.column)} = %s"
        )
    rows = _fetch(connection, sql, [model._meta.pk.get_db_prep_value(pk, connection)])
    return _instance(model, connection, rows[0]) if rows else None


def _fetch(connection, sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Every row read: SQLite finishes (and, outside a transaction, commits) an
        # UPDATE … RETURNING only once its result is read to the end.
        return cursor.fetchall()


def _instance(model, connection, row):
    """A model instance from a row whose first columns are ``model``'s concrete fields
    in order, each value converted as the ORM converts it (a JSON column decoded, a
    SQLite datetime parsed, a UUID made)."""
    key = (connection.vendor, model, "converters")
    converters = _sql.get(key)
    if converters is None:
        converters = []
        for position, field in enumerate(model._meta.concrete_fields):
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((position, found, column))
        _sql[key] = converters
    fields = model._meta.concrete_fields
    values = list(row[: len(fields)])
    for position, functions, column in converters:
        value = values[position]
        for function in functions:
            value = function(value, column, connection)
        values[position] = value
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def values(model, pk, names: tuple) -> tuple | None:
    """The row ``pk``'s ``names`` fields as the database returns them (not converted to
    Python values: for comparing with an earlier read on the same database), or None."""
    connection = _connection(model)
    key = (connection.vendor, model, "values", names)
    sql = _sql.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(_column(model, name)[1]) for name in names)
        sql = _sql[key] = (
            f"SELECT {columns} FROM {quote(model._meta.db_table)} "  # noqa: S608
            f"WHERE {quote(model._meta.pk.column)} = %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [model._meta.pk.get_db_prep_value(pk, connection)])
        row = cursor.fetchone()
    return tuple(row) if row is not None else None
