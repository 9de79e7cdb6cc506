"""`ci-guard help [TOPIC]`: the user documentation, shipped with the package."""

from __future__ import annotations

import click

from ci_guard import userdocs


@click.command("help")
@click.argument("topic", required=False, metavar="[TOPIC]")
def command(topic: str | None) -> None:
    """Print a page of the documentation; with no TOPIC, the list of pages.

    \b
    Examples: ci-guard help
              ci-guard help exit-codes
              ci-guard help configuration | less
    Exit:     0 printed, 2 no such topic
    """
    if topic is None:
        click.echo(_listing())
        return
    click.echo(userdocs.read_topic(topic), nl=False)


def _listing() -> str:
    found = userdocs.topics()
    if not found:
        return "No documentation is installed with this copy of ci-guard."
    width = max(len(name) for name in found)
    lines = ["Topics (ci-guard help TOPIC):", ""]
    lines += [f"  {name:<{width}}  {userdocs.title(page)}" for name, page in found.items()]
    return "\n".join(lines)
