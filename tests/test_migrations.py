"""The migrations in migrations/ describe exactly the models: no change is left to generate."""

from __future__ import annotations

from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector

from service.db import tortoise_config
from service.settings import Settings


async def test_models_and_migrations_agree(test_settings: Settings) -> None:
    config = tortoise_config(test_settings)
    apps = config["apps"]
    async with tortoise_cli_context(config) as ctx:
        assert ctx.apps is not None
        pending = await MigrationAutodetector(ctx.apps, apps).changes()
    assert not pending, [
        f"{writer.app_label}.{writer.name}: run tortoise -c service.db.TORTOISE_ORM makemigrations"
        for writer in pending
    ]
