"""What a validation found, as the CLI prints it: counts, problems (listed up to a
limit per code, the rest counted) and file paths shown relative to where the user is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from paratopics.errors import Problem, problem

#: Problems of one code listed per annotation file; the rest are only counted.
MAX_LISTED_PER_CODE = 1000


def display_path(path: Path) -> str:
    """Paths as people typed them: relative to the current folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Summary:
    articles: int = 0
    annotation_files: int = 0
    annotation_lines: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: errors counted but not listed (see MAX_LISTED_PER_CODE)
    suppressed: int = 0
    #: work done, not part of the report: article record files parsed and annotation
    #: lines read one by one (the caches spare the rest)
    records_parsed: int = 0
    lines_checked: int = 0

    @property
    def errors(self) -> int:
        listed = sum(1 for p in self.problems
                     if p.severity == "error" and p.code != "more-problems")
        return listed + self.suppressed

    def add_capped(self, found: Iterable[Problem], file: str) -> None:
        """List at most MAX_LISTED_PER_CODE problems of each code from one file.

        A file of ten million bad lines then costs constant memory and a
        readable report; the rest are counted and summarized in one line.
        """
        listed: dict[str, int] = {}
        for p in found:
            n = listed[p.code] = listed.get(p.code, 0) + 1
            if n <= MAX_LISTED_PER_CODE:
                self.problems.append(p)
            elif p.severity == "error":
                self.suppressed += 1
        self.problems += [problem("more-problems", file=file, count=n - MAX_LISTED_PER_CODE,
                                  kind=code)
                          for code, n in listed.items() if n > MAX_LISTED_PER_CODE]
