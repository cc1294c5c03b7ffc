"""Single-row lookups run on every request, without the ORM's per-call query building.

Every page under an account loads the session, the user (the auth middleware) and the
membership with its account (`account_view`). Through the ORM each lookup costs 0.2-0.5 ms of
CPU, almost all of it spent building and compiling the same SQL again; the query itself takes
~25 µs on SQLite. Here the SQL is written once per process and database alias from the models'
metadata, and the rows go through the ORM's own field converters and `Model.from_db`, so the
instances are the ones the ORM would have built (decimals stay `Decimal`, datetimes aware, and
so on). The field-by-field comparison with the ORM is in tests/accounts/test_request_lookups.py,
run on SQLite and PostgreSQL.
"""

from django.db import connections
from django.db.models.sql import Query


def _fields(model, names) -> list:
    """The model's concrete fields, or those named, in the order from_db expects."""
    if not names:
        return list(model._meta.concrete_fields)
    wanted = {model._meta.get_field(name).attname for name in names}
    fields = [f for f in model._meta.concrete_fields if f.attname in wanted]
    if len(fields) != len(wanted):
        raise ValueError(f"not concrete fields of {model.__name__}: {names}")
    return fields


class Prepared:
    """One SELECT for one or more models, each row read as instances of these models.

    `build(column, tables, columns)` returns the SQL, with %s for the parameters:
    `column(Model, "field")` is a field's quoted column name, `tables` the quoted table names
    and `columns` the quoted column lists of the models, in order (aliases t0, t1, ...).
    A model given as `(Model, ["id", "name"])` is read with those fields only, the others
    deferred (loaded on first access, as with `.only()`).
    """

    def __init__(self, build, *models):
        self.build = build
        self.only = [m[1] if isinstance(m, tuple) else None for m in models]
        self.models = [m[0] if isinstance(m, tuple) else m for m in models]
        self._cache: dict = {}

    def _for(self, using: str):
        prepared = self._cache.get(using)
        if prepared is None:
            connection = connections[using]
            quote = connection.ops.quote_name
            tables, columns, groups = [], [], []
            for n, (model, names) in enumerate(zip(self.models, self.only, strict=True)):
                fields = _fields(model, names)
                tables.append(quote(model._meta.db_table))
                columns.append(", ".join(f"t{n}.{quote(f.column)}" for f in fields))
                groups.append(fields)

            def column(model, name):
                return quote(model._meta.get_field(name).column)

            compiler = connection.ops.compiler("SQLCompiler")(
                Query(self.models[0]), connection, using
            )
            every = [f.get_col(f.model._meta.db_table) for group in groups for f in group]
            converters = list(compiler.get_converters(every).items())
            slices, start = [], 0
            for model, group in zip(self.models, groups, strict=True):
                slices.append((model, [f.attname for f in group], start, start + len(group)))
                start += len(group)
            prepared = (self.build(column, tables, columns), slices, converters)
            self._cache[using] = prepared
        return prepared

    def first(self, params, using: str = "default"):
        """The instances of the first row (a tuple, one per model), or None."""
        sql, slices, converters = self._for(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            row = list(row)
            for position, (functions, expression) in converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
        return tuple(
            model.from_db(using, names, row[start:end]) for model, names, start, end in slices
        )
