"""The Store: one engine, the app's tables, and the reflected source table."""

from __future__ import annotations

from sqlalchemy import URL, Engine, inspect

from .engine import describe_url, make_engine, sqlite_path
from .schema import SOURCE_TABLE, app_metadata
from .source import SourceInfo, reflect_source


class StoreSchemaError(RuntimeError):
    pass


class Store:
    def __init__(self, url: str | URL, *, create: bool = True, new_file: bool = False) -> None:
        """Open a database; a SQLite file must exist unless `new_file` allows creating it."""
        path = sqlite_path(url)
        if path is not None and not path.exists():
            if not new_file:
                raise StoreSchemaError(
                    f"there is no SQLite database at {path}: check the path, or create a demo "
                    f"database there with `orders-sync --db {describe_url(url)} demo-init`"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine: Engine = make_engine(url)
        self._source: SourceInfo | None = None
        if create:
            self.ensure_schema()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        return describe_url(self.url)

    def ensure_schema(self) -> None:
        """Create the app's tables on SQLite and PostgreSQL; on SQL Server the DBA runs sql/."""
        if self.dialect == "mssql":
            present = set(inspect(self.engine).get_table_names())
            missing = [t.name for t in app_metadata.sorted_tables if t.name not in present]
            if missing:
                raise StoreSchemaError(
                    f"the database lacks {', '.join(missing)}: ask the DBA to run the scripts "
                    "in sql/ (see the README's DBA section)"
                )
            return
        app_metadata.create_all(self.engine)

    def has_source(self) -> bool:
        return inspect(self.engine).has_table(SOURCE_TABLE)

    def source(self, *, refresh: bool = False) -> SourceInfo:
        if self._source is None or refresh:
            self._source = reflect_source(self.engine)
        return self._source

    def dispose(self) -> None:
        self.engine.dispose()
