"""`python -m tutor`: the same command as `tutor`."""

from .cli import main

main()
