"""Errors that point at the program text: `file:line:col: error: message`, the line, a caret, and a hint."""

from __future__ import annotations


class PhononError(Exception):
    """A problem in a Phonon program, located at a line and column (1-based) when known."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.hint = hint
        self.source: str | None = None
        self.filename = "<program>"

    def located(self, source: str, filename: str) -> "PhononError":
        """Attach the program text so `str(err)` can show the offending line."""
        if self.source is None:
            self.source, self.filename = source, filename
        return self

    def __str__(self) -> str:
        if self.line is None:  # not about a place in the program: no location to show
            text = f"error: {self.message}"
        else:
            where = f"{self.filename}:{self.line}" + (f":{self.col}" if self.col is not None else "")
            text = f"{where}: error: {self.message}"
        if self.source is not None and self.line is not None:
            lines = self.source.splitlines()
            if 0 < self.line <= len(lines):
                code = lines[self.line - 1].replace("\t", " ")
                text += f"\n  {code}"
                if self.col is not None:
                    text += "\n  " + " " * (self.col - 1) + "^"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


def did_you_mean(word: str, choices: list[str] | tuple[str, ...], prefix: str = "") -> str:
    """A "did you mean" hint for an unknown name, or "" when nothing is close."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return "did you mean " + " or ".join(f"'{prefix}{c}'" for c in close) + "?"
