"""``truyvet token [NAME ROLE...]``: a new API token (256 random bits), or a whole
``TRUYVET_API_TOKENS`` entry for a principal."""

from __future__ import annotations

import click

from truyvet.api.access import ROLES, parse_tokens
from truyvet.secret_file import new_token


@click.command("token")
@click.argument("name", required=False)
@click.argument("roles", nargs=-1, type=click.Choice(ROLES))
def command(name: str | None, roles: tuple[str, ...]) -> None:
    """Print a new bearer token for the API; with NAME and ROLEs, an entry of
    TRUYVET_API_TOKENS (name:role[+role]:token), e.g. `truyvet token lan tracer`."""
    token = new_token()
    if name is None:
        click.echo(token)
        return
    if not roles:
        raise click.UsageError(f"{name}: which roles? ({', '.join(ROLES)})")
    entry = f"{name}:{'+'.join(roles)}:{token}"
    try:
        parse_tokens(entry)
    except ValueError as exc:
        raise click.UsageError(str(exc).replace("TRUYVET_API_TOKENS entry 1", "NAME")) from None
    click.echo(entry)
