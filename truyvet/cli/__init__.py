"""``truyvet``: one command line for the whole system. Every flag mirrors an environment
variable, shown in ``--help``."""

from __future__ import annotations

import importlib
import logging

import click

from truyvet.cli.options import env_option
from truyvet.devstack.process import StartError
from truyvet.kafka.admin import BrokerRefused, BrokerUnreachable
from truyvet.kafka.config import route_librdkafka_logs
from truyvet.kafka.retry import BrokerError
from truyvet.settings import SettingsError


# each is the module ``truyvet.cli.<name>``, whose ``command`` is ``truyvet <name>``
COMMANDS = ("api", "audit", "dlq", "match", "publish", "report", "run", "simulate", "stack",
            "status", "token", "venues", "worker")


class _Main(click.Group):
    """Known operational failures end in one clear sentence, not a traceback. A command's
    module is imported when it is run or listed, not before: ``truyvet api`` does not load the
    worker's faust and aiokafka (~0.15 s of every start)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command: click.Command = importlib.import_module(f"truyvet.cli.{cmd_name}").command
        return command

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (BrokerUnreachable, BrokerRefused, SettingsError, StartError) as exc:
            raise click.ClickException(str(exc)) from None
        except BrokerError as exc:  # a refusal of one request: its reason, not a traceback
            err = exc.args[0] if exc.args else exc
            raise click.ClickException(f"Kafka: {getattr(err, 'str', lambda: str(err))()}") from None


@click.group(cls=_Main,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@env_option("--log-level", "TRUYVET_LOG_LEVEL", default="info",
            type=click.Choice(["debug", "info", "warning", "error"]), help="Logging verbosity.")
def main(log_level: str) -> None:
    """truyvet (truy vết): match declared COVID case itineraries against QR check-in scans."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    route_librdkafka_logs(logging.getLevelName(log_level.upper()))
