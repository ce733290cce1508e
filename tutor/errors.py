"""The library's error types. The library raises; only cli.py prints and exits."""

from __future__ import annotations


class TutorError(Exception):
    """Any error the user can act on (as opposed to a bug in tutor)."""

    exit_code = 2


class ProblemError(TutorError):
    """Bad input, located in a file: printed as ``FILE:LINE:COL: error: MESSAGE``."""

    def __init__(self, path: str, line: int, col: int, message: str):
        super().__init__(message)
        self.path = path
        self.line = line
        self.col = col
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: error: {self.message}"


# A message stays one readable line: a product of 350 factors has 351 inputs.
MAX_INPUTS_SHOWN = 8


class DivergenceError(TutorError):
    """A value became infinite or undefined while solving (too large a learning rate,
    log of 0, ...). Carries where it happened so the report can name it."""

    exit_code = 1

    def __init__(self, quantity: str, detail: str, step: int | None = None,
                 inputs: dict[str, float | None] | None = None, suggestion: str = ""):
        super().__init__(f"{quantity}: {detail}")
        self.quantity = quantity
        self.detail = detail
        self.step = step
        self.inputs = inputs or {}
        self.suggestion = suggestion

    def __str__(self) -> str:
        where = f"step {self.step}: " if self.step is not None else "the final forward pass: "
        shown = list(self.inputs.items())[:MAX_INPUTS_SHOWN]
        inputs = ", ".join(f"{k} = {v!r}" for k, v in shown)
        if len(self.inputs) > len(shown):
            inputs += f", … ({len(self.inputs) - len(shown)} more)"
        text = f"error: {where}{self.quantity} is not a finite number ({self.detail})"
        if inputs:
            text += f"; its inputs: {inputs}"
        return text + (f"; {self.suggestion}" if self.suggestion else "")
