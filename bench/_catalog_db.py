"""Shared by the catalog benchmarks: a PostgreSQL database of their own, migrated, with Django set up."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def setup(database: str) -> None:
    """Create (if missing) and migrate a PostgreSQL database for a benchmark, then set Django up on it."""
    import psycopg

    with psycopg.connect(ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    os.environ["DATABASE_URL"] = ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reimbursement.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("API_ANON_THROTTLE", "1000000/minute")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def drop(database: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
