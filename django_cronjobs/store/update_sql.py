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
