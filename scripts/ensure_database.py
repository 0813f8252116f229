"""Create the database named in DATABASE_URL if it does not exist yet."""

import os
import sys

import psycopg
from psycopg import sql

url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/commerce")
name = url.rsplit("/", 1)[1].split("?")[0]
admin_url = url.rsplit("/", 1)[0] + "/postgres"

with psycopg.connect(admin_url, autocommit=True) as conn:
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"created database {name}")
sys.exit(0)
