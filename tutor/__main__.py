"""`python -m tutor`: the same command as `tutor`."""

from .start import main

main()
