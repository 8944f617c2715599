"""The header rows of survey exports: how many there are, and what each column is called.

- **Qualtrics**: row 1 column ids (``ResponseId``, ``RecordedDate``, ``Q1``), row 2 the
  question texts, row 3 ``{"ImportId":"..."}`` cells. A column is found by its id or
  by its question text.
- **SurveyMonkey**: row 1 question texts (blank over the second and later sub-columns
  of a question), row 2 sub-answer labels ("Response", "Open-Ended Response"). A column
  is found by its question text (its first sub-column) or as ``"Question | Sub-answer"``.
- **Plain**: one header row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from relcrm.sources.csv_reading import CsvRecord
from relcrm.sources.survey_columns import Flavour

QUALTRICS_IMPORT_ID = '{"ImportId"'
SURVEYMONKEY_MARKER = "Respondent ID"


@dataclass(frozen=True, slots=True)
class SurveyHeader:
    """What the header rows say: the flavour, where columns are, and where data starts."""

    flavour: Flavour
    width: int
    """Cells in a data row (the first header row's count)."""
    columns: dict[str, int]
    """Every name a column goes by, with its position (the first column, for a name
    several columns share)."""
    header_rows: int
    duplicated: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Names that must be unique but are not (plain headers, Qualtrics column ids), with
    every position that has them: an error whether or not the mapping uses them."""
    shared: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Other names several columns go by (question texts): an error only when the
    mapping names one, since which column it means cannot be told."""

    def names(self) -> list[str]:
        """The columns' names, for an error message about a missing one."""
        return list(self.columns)

    def name_of(self, index: int) -> str | None:
        """The first name the column at ``index`` goes by (its id or header)."""
        for name, position in self.columns.items():
            if position == index and name:
                return name
        return None


def _repeated(names: list[str], offset: int = 0) -> dict[str, tuple[int, ...]]:
    """Non-empty names that occur more than once, with their positions."""
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        if name:
            positions.setdefault(name, []).append(index + offset)
    return {name: tuple(at) for name, at in positions.items() if len(at) > 1}


def detect_flavour(records: list[CsvRecord]) -> Flavour:
    """Qualtrics if row 3 holds ImportId cells, SurveyMonkey if row 1 has "Respondent ID"
    and row 2 starts with a blank (sub-answer labels), plain otherwise."""
    if len(records) >= 3 and any(
        cell.strip().startswith(QUALTRICS_IMPORT_ID) for cell in records[2].cells
    ):
        return Flavour.QUALTRICS
    if (
        len(records) >= 2
        and SURVEYMONKEY_MARKER in [cell.strip() for cell in records[0].cells]
        and records[1].cells
        and not records[1].cells[0].strip()
    ):
        return Flavour.SURVEYMONKEY
    return Flavour.PLAIN


def read_header(records: list[CsvRecord], flavour: Flavour) -> SurveyHeader:
    """The header of an export whose first records are ``records`` (up to 3 suffice)."""
    if flavour is Flavour.AUTO:
        flavour = detect_flavour(records)
    first = [cell.strip() for cell in records[0].cells] if records else []
    columns: dict[str, int] = {}
    if flavour is Flavour.QUALTRICS:
        texts = [cell.strip() for cell in records[1].cells] if len(records) > 1 else []
        for index, name in enumerate(first):
            columns.setdefault(name, index)
        for index, text in enumerate(texts):
            if text:
                columns.setdefault(text, index)
        has_import_row = len(records) > 2 and any(
            cell.strip().startswith(QUALTRICS_IMPORT_ID) for cell in records[2].cells
        )
        return SurveyHeader(
            flavour,
            len(first),
            columns,
            3 if has_import_row else 2,
            duplicated=_repeated(first),
            shared={k: v for k, v in _repeated(texts).items() if k not in first},
        )
    if flavour is Flavour.SURVEYMONKEY:
        labels = [cell.strip() for cell in records[1].cells] if len(records) > 1 else []
        question = ""
        combined: list[str] = []
        for index, text in enumerate(first):
            if text:
                question = text
                columns.setdefault(text, index)
            label = labels[index] if index < len(labels) else ""
            combined.append(f"{question} | {label}" if question and label else "")
            if combined[-1]:
                columns.setdefault(combined[-1], index)
        shared = {**_repeated(first), **_repeated(combined)}
        return SurveyHeader(flavour, len(first), columns, 2, shared=shared)
    for index, name in enumerate(first):
        columns.setdefault(name, index)
    return SurveyHeader(Flavour.PLAIN, len(first), columns, 1, duplicated=_repeated(first))
