"""UPDATE statements written as SQL with named parameters.

The ORM takes longer to build an UPDATE with a CASE of a hundred branches
than the database takes to run it; batches write theirs with this on SQLite
and MySQL (on PostgreSQL, see :mod:`django_cronjobs.store.postgres_batches`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Model

from ..databases import database_for_write


class Statement:
    """An UPDATE of ``model``'s table written as SQL, with named parameters.

    The ORM takes longer to build an UPDATE with a CASE of a hundred branches
    than the database takes to run it.
    """

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.connection = connections[database_for_write()]
        self.values: dict[str, Any] = {}
        """The parameters, by name."""
        self._set = ""
        self._where = ""

    def column(self, name: str) -> str:
        column: str = self.model._meta.get_field(name).column  # type: ignore[union-attr,assignment]
        return str(self.connection.ops.quote_name(column))

    def moment(self, value: datetime | None) -> object:
        """A datetime as the database takes it as a parameter."""
        return self.connection.ops.adapt_datetimefield_value(value)

    def param(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"%({name})s"

    def params(self, values: Iterable[object]) -> str:
        return "(" + ", ".join(self.param(value) for value in values) + ")"

    def case(self, key: str, values: dict[Any, object], otherwise: str) -> str:
        """``CASE key WHEN k THEN v ... ELSE otherwise END`` for ``values``' items."""
        if not values:
            return self.column(otherwise)
        branches = " ".join(
            f"WHEN {self.param(when)} THEN {self.param(then)}" for when, then in values.items()
        )
        return f"CASE {self.column(key)} {branches} ELSE {self.column(otherwise)} END"

    def update(self, assignments: str) -> None:
        self._set = assignments

    def where(self, condition: str) -> None:
        self._where = condition

    @property
    def can_return(self) -> bool:
        """Whether the database has UPDATE ... RETURNING (not MySQL/MariaDB)."""
        vendor = self.connection.vendor
        return vendor == "postgresql" or (
            vendor == "sqlite" and self.connection.features.can_return_rows_from_bulk_insert
        )

    def execute(self) -> int:
        """Run the UPDATE; the number of rows it matched."""
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql(), self.values)
            return int(cursor.rowcount)

    def execute_returning(self, *names: str) -> list[tuple[Any, ...]]:
        """Run the UPDATE; the ``names`` columns of the rows it changed."""
        returning = ", ".join(self.column(name) for name in names)
        with self.connection.cursor() as cursor:
            cursor.execute(f"{self.sql()} RETURNING {returning}", self.values)
            return list(cursor.fetchall())

    @property
    def table(self) -> str:
        return str(self.connection.ops.quote_name(self.model._meta.db_table))

    def sql(self) -> str:
        table = self.table
        return f"UPDATE {table} SET {self._set} WHERE {self._where}"


# Rows per UPDATE on SQLite and MySQL, whose statements name each row's values.
ROWS_PER_UPDATE = 500

# "Equal, or both NULL", per vendor (the SQL standard's elsewhere).
NULL_SAFE_EQUAL = {"mysql": "<=>", "sqlite": "IS"}


def update_joined(
    model: type[Model],
    rows: list[tuple[Any, ...]],
    *,
    match: tuple[str, ...],
    assign: tuple[str, ...],
) -> int:
    """Set the ``assign`` fields of ``model``'s rows whose ``match`` fields equal a row's;
    how many rows matched.

    Each of ``rows`` holds the values of ``match`` then those of ``assign``;
    NULL matches NULL.
    One UPDATE joined to the rows (on SQLite and MySQL one per
    ROWS_PER_UPDATE): its cost grows with the rows, not with their square as
    a CASE's would, and neither does the time to build it.
    """
    if not rows:
        return 0
    connection = connections[database_for_write()]
    ops = connection.ops
    fields = [model._meta.get_field(name) for name in (*match, *assign)]
    columns = [ops.quote_name(field.column) for field in fields]  # type: ignore[union-attr,arg-type]
    names = [f"v{number}" for number in range(len(fields))]
    table = ops.quote_name(model._meta.db_table)
    null_safe = NULL_SAFE_EQUAL.get(connection.vendor, "IS NOT DISTINCT FROM")
    join = " AND ".join(
        # "=" where no NULL can be: it lets the database use the column's index.
        f"target.{column} {null_safe if field.null else '='} wanted.{name}"
        for column, name, field in zip(columns[: len(match)], names, fields, strict=False)
    )
    targets = list(zip(columns[len(match) :], names[len(match) :], strict=True))
    prepared = [
        tuple(
            field.get_db_prep_value(value, connection)  # type: ignore[union-attr]
            for field, value in zip(fields, row, strict=True)
        )
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            cursor.execute(
                f"UPDATE {table} AS target SET "
                + ", ".join(f"{column} = wanted.{name}" for column, name in targets)
                + f" FROM unnest({arrays}) AS wanted ({', '.join(names)}) WHERE {join}",
                [list(values) for values in zip(*prepared, strict=True)],
            )
            return int(cursor.rowcount)
        written = 0
        for start in range(0, len(prepared), ROWS_PER_UPDATE):
            chunk = prepared[start : start + ROWS_PER_UPDATE]
            select = "SELECT " + ", ".join(f"%s AS {name}" for name in names)
            wanted = " UNION ALL ".join([select] * len(chunk))
            params = [value for row in chunk for value in row]
            if connection.vendor == "mysql":
                sql = (
                    f"UPDATE {table} AS target JOIN ({wanted}) AS wanted ON {join} SET "
                    + ", ".join(f"target.{column} = wanted.{name}" for column, name in targets)
                )
            else:
                sql = (
                    f"UPDATE {table} AS target SET "
                    + ", ".join(f"{column} = wanted.{name}" for column, name in targets)
                    + f" FROM ({wanted}) AS wanted WHERE {join}"
                )
            cursor.execute(sql, params)
            written += int(cursor.rowcount)
    return written
