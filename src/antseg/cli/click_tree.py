"""The ``antseg`` command tree as a click object, for tools that read click (the docs' CLI reference page)."""

import typer.main

from antseg.cli import app

#: The click group behind ``antseg`` (built from the typer app; importing this module costs nothing at start-up).
command = typer.main.get_command(app)
