"""``python -m s3xcopy`` runs the CLI."""

from .cli import console_main

console_main()
