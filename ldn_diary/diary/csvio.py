"""The diary CSV format: one parser and one writer, used by the import page, the
``import_diary`` command and the export view alike.

Format (also in README.md, "Diary CSV format"): UTF-8, comma-separated, RFC 4180 quoting, a header
line that is exactly ``COLUMNS``, then one line per day.

- ``date``: YYYY-MM-DD, each day at most once, not in the future; any order.
- ``pain``, ``fatigue``, ``sleep``, ``mood``: whole numbers 0-10.
- ``dreams``: none, normal, vivid or nightmares.
- ``side_effects``: codes separated by ``;`` from vivid_dreams, insomnia, headache, nausea, anxiety,
  other; ``other`` may carry free text as ``other:text``, and must then come last (the text runs to
  the end of the field, so it may itself contain ``;``). Empty means none.
- ``dose_taken``: yes, partly or no on a day with LDN; empty on a day without (before the first
  dose, or paused at 0 mg), where ``no`` is accepted too; empty on a day with LDN means not
  answered.
- ``dose_mg``: the LDN dose on that day in mg, a plain decimal with at most 3 decimals
  (0.001-50), ``0`` for stopped/paused, empty for "no LDN yet" (only before the first dose).
- ``note``: free text, up to 2000 characters.

Free text (the note, and the text after ``other:``) that a spreadsheet would run as a formula,
i.e. that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, is written with a
single quote in front (OWASP's advice on CSV injection); so that this stays reversible, a text
that already starts with quotes followed by one of those characters gets one more. Import
removes exactly one such quote (``escape_formula`` / ``unescape_formula``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext

from . import rules
from .dosing import format_mg, parse_dose_mg
from .models import (
    SCORE_FIELDS,
    DiaryEntry,
    DoseChange,
    DoseTaken,
    LifeEvent,
    SideEffect,
    Treatment,
)
from .selectors import dose_at

COLUMNS = (
    "date",
    "pain",
    "fatigue",
    "sleep",
    "mood",
    "dreams",
    "side_effects",
    "dose_taken",
    "dose_mg",
    "note",
)
MAX_IMPORT_BYTES = 2_000_000
# Enough for decades of daily rows; a bigger file is almost certainly not a diary.
MAX_IMPORT_ROWS = 20_000
# A file with a systematic mistake would otherwise produce one message per line.
MAX_REPORTED_ERRORS = 50
OTHER_PREFIX = "other:"

# A cell a spreadsheet would evaluate: these first characters start a formula (OWASP, "CSV
# Injection"). _QUOTED_FORMULA matches a text that needs, or had, the protecting quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = f"[{re.escape(''.join(FORMULA_STARTS))}]"
_QUOTED_FORMULA = re.compile(f"'*{_FORMULA_START}")
_ESCAPED_FORMULA = re.compile(f"'+{_FORMULA_START}")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SCORE = re.compile(r"\d{1,2}")


@dataclass(frozen=True)
class DiaryRow:
    """One day from a file; ``line`` is where its record starts, for messages.

    The parser only builds rows whose values passed ``rules.check_entry``; ``values`` checks
    again (rows may also be built by hand, as the tests and the demo data do).
    """

    line: int
    date: dt.date
    pain: int
    fatigue: int
    sleep: int
    mood: int
    dreams: str
    side_effects: tuple[str, ...]
    side_effect_other: str
    dose_taken: str
    dose_ug: int | None
    note: str

    def values(self, *, on_therapy: bool) -> rules.EntryValues:
        """The row's entry values for a day with (``on_therapy``) or without LDN."""
        checked, problems = rules.check_entry(
            pain=self.pain,
            fatigue=self.fatigue,
            sleep=self.sleep,
            mood=self.mood,
            dreams=self.dreams,
            side_effects=self.side_effects,
            side_effect_other=self.side_effect_other,
            dose_taken=self.dose_taken,
            note=self.note,
            on_therapy=on_therapy,
            answer_required=False,
            name=str,
        )
        if checked is None:
            raise ValidationError([at_line(self.line, p) for p in problems.values()])
        return checked


@dataclass
class ParsedDiary:
    rows: list[DiaryRow] = field(default_factory=list)  # oldest first
    errors: list[str] = field(default_factory=list)
    more_errors: int = 0  # errors found beyond MAX_REPORTED_ERRORS

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(message)
        else:
            self.more_errors += 1


def escape_formula(text: str) -> str:
    """Free text as written to a CSV cell: "=1+1" -> "'=1+1", "'=x" -> "''=x", others as they are.

    A leading single quote makes spreadsheets show the text instead of running it. Texts that
    start with quotes and then a formula character get one more quote, so ``unescape_formula``
    can always remove exactly one and every text comes back as it was.
    """
    return f"'{text}" if _QUOTED_FORMULA.match(text) else text


def unescape_formula(text: str) -> str:
    """The inverse of ``escape_formula``, applied to free text read from a file."""
    return text[1:] if _ESCAPED_FORMULA.match(text) else text


def encode_side_effects(codes: Iterable[str], other: str) -> str:
    """["headache", "other"], "tinnitus" -> "headache;other:tinnitus" (canonical order)."""
    chosen = set(codes)
    out = [c.value for c in SideEffect if c in chosen and c != SideEffect.OTHER]
    if SideEffect.OTHER in chosen or other:
        out.append(f"{OTHER_PREFIX}{escape_formula(other)}" if other else SideEffect.OTHER.value)
    return ";".join(out)


def at_line(line: int, problem: str) -> str:
    """A problem with the file's line it is on, as every import message starts."""
    return gettext("line %(line)s: %(problem)s") % {"line": line, "problem": problem}


def decode_side_effects(text: str) -> tuple[list[str], str]:
    """The inverse of ``encode_side_effects``; raises ValueError naming an unknown code."""
    codes: list[str] = []
    other = ""
    parts = text.split(";")
    for i, raw in enumerate(parts):
        part = raw.strip()
        if part.lower().startswith(OTHER_PREFIX):
            # Free text runs to the end of the field, so it may contain ";" itself.
            other = ";".join([part[len(OTHER_PREFIX) :], *parts[i + 1 :]]).strip()
            other = unescape_formula(other)
            codes.append(SideEffect.OTHER.value)
            break
        if not part:
            continue
        code = part.lower()
        if code not in SideEffect.values:
            raise ValueError(
                gettext(
                    "side_effects has an unknown code %(code)s; use codes from %(codes)s "
                    "separated by ';', with other:your text last"
                )
                % {"code": repr(part), "codes": ", ".join(SideEffect.values)}
            )
        codes.append(code)
    return [c.value for c in SideEffect if c.value in codes], other


def decode_upload(data: bytes | str) -> str:
    """Bytes from a file to text; raises ValueError with a message for the patient."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        # utf-8-sig drops the byte-order mark spreadsheets add to "CSV UTF-8" files.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            gettext(
                "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8” and "
                "upload it again."
            )
        ) from exc


def _parse_row(values: list[str], line: int, today: dt.date, out: ParsedDiary) -> DiaryRow | None:
    """Text to typed values (the file's own syntax), then the diary's rules on those values."""
    problems: list[str] = []
    cells = dict(zip(COLUMNS, values, strict=True))
    raw_date = cells["date"].strip()
    date = None
    if _ISO_DATE.fullmatch(raw_date):
        try:
            date = dt.date.fromisoformat(raw_date)
        except ValueError:
            date = None
    if date is None:
        problems.append(
            gettext("date must be a real day written YYYY-MM-DD, got %(value)s")
            % {"value": repr(raw_date)}
        )
    else:
        out_of_bounds = rules.import_date_problem(date, today)
        if out_of_bounds:
            problems.append(
                gettext("%(problem)s; remove that line") % {"problem": out_of_bounds}
                if date > today
                else out_of_bounds
            )
    # A score that is not plain digits stays text, so the rule's message quotes what was written.
    typed: dict[str, object] = {}
    for name in SCORE_FIELDS:
        raw = cells[name].strip()
        score = int(raw) if _SCORE.fullmatch(raw) else raw
        typed[name] = score if rules.is_score(score) else raw
    try:
        side_effects, other = decode_side_effects(cells["side_effects"])
    except ValueError as exc:
        problems.append(str(exc))
        side_effects, other = [], ""
    raw_dose = cells["dose_mg"].strip()
    dose_ug = None
    if raw_dose:
        try:
            dose_ug = parse_dose_mg(raw_dose, allow_zero=True)
        except ValidationError:
            problems.append(
                gettext(
                    "dose_mg must be a dose in mg between 0.001 and 50 with at most 3 decimals "
                    "(e.g. 4.5), 0 for stopped or paused, or empty before your first dose; "
                    "got %(value)s"
                )
                % {"value": repr(raw_dose)}
            )
    # Whether the day has LDN is settled against the whole diary by the import itself
    # (services.import_plan); here an answer only has to be one of the allowed words.
    dose_taken = cells["dose_taken"].strip().lower()
    checked, entry_problems = rules.check_entry(
        pain=typed["pain"],
        fatigue=typed["fatigue"],
        sleep=typed["sleep"],
        mood=typed["mood"],
        dreams=cells["dreams"].strip().lower(),
        side_effects=side_effects,
        side_effect_other=other,
        dose_taken=dose_taken,
        note=unescape_formula(cells["note"]),
        answer_required=False,
        name=str,
    )
    problems.extend(
        entry_problems[field]
        for field in COLUMNS + ("side_effect_other",)
        if field in entry_problems
    )
    for problem in problems:
        out.error(at_line(line, problem))
    if problems or date is None or checked is None:
        return None
    return DiaryRow(
        line=line,
        date=date,
        pain=checked.pain,
        fatigue=checked.fatigue,
        sleep=checked.sleep,
        mood=checked.mood,
        dreams=checked.dreams,
        side_effects=tuple(checked.side_effects),
        side_effect_other=checked.side_effect_other,
        # As written ("" for none): the import decides it against the diary's doses.
        dose_taken="" if checked.dose_taken == DoseTaken.NOT_APPLICABLE else checked.dose_taken,
        dose_ug=dose_ug,
        note=checked.note,
    )


def parse_diary_csv(data: bytes | str, *, today: dt.date) -> ParsedDiary:
    """Parse and validate a whole file. Returns every row, or every problem with its line."""
    out = ParsedDiary()
    if len(data) > MAX_IMPORT_BYTES:
        out.error(
            gettext(
                "The file is %(size)s MB; the limit is %(limit)s MB. Split it into several "
                "files by date."
            )
            % {
                "size": number_format(len(data) / 1_000_000, 1),
                "limit": MAX_IMPORT_BYTES // 1_000_000,
            }
        )
        return out
    try:
        text = decode_upload(data)
    except ValueError as exc:
        out.error(str(exc))
        return out
    # newline="" keeps line breaks inside quoted notes exactly as written (csv module docs).
    reader = csv.reader(io.StringIO(text, newline=""))
    header_line = ",".join(COLUMNS)
    try:
        header = next(reader, None)
        if header is None:
            out.error(
                gettext("The file is empty. It needs the header line %(header)s first.")
                % {"header": header_line}
            )
            return out
        if [h.strip().lower() for h in header] != list(COLUMNS):
            out.error(
                at_line(
                    1,
                    gettext("the first line must be exactly %(header)s; got %(value)s")
                    % {"header": header_line, "value": repr(",".join(header)[:200])},
                )
            )
            return out
        rows: list[DiaryRow] = []
        seen: dict[dt.date, int] = {}
        records = 0
        line = reader.line_num + 1
        for values in reader:
            if not values or values == [""]:
                line = reader.line_num + 1
                continue
            records += 1
            if records > MAX_IMPORT_ROWS:
                out.error(
                    at_line(
                        line,
                        gettext("the file has more than %(rows)s days; split it")
                        % {"rows": MAX_IMPORT_ROWS},
                    )
                )
                return out
            if len(values) != len(COLUMNS):
                out.error(
                    at_line(
                        line,
                        gettext(
                            "expected %(expected)s fields, got %(got)s (a note with a comma or "
                            "line break needs double quotes around it)"
                        )
                        % {"expected": len(COLUMNS), "got": len(values)},
                    )
                )
            else:
                row = _parse_row(values, line, today, out)
                if row is not None:
                    if row.date in seen:
                        out.error(
                            at_line(
                                line,
                                gettext(
                                    "%(date)s is also on line %(other)s; each day may appear once"
                                )
                                % {"date": row.date.isoformat(), "other": seen[row.date]},
                            )
                        )
                    else:
                        seen[row.date] = line
                        rows.append(row)
            line = reader.line_num + 1
    except csv.Error as exc:
        out.error(
            at_line(
                reader.line_num,
                gettext("this is not valid CSV (%(error)s)") % {"error": exc},
            )
        )
        return out
    if out.ok and rules.NUL in text:
        # Every field that may hold one is checked above; this guards whatever is left, because
        # the file itself is kept server-side until it is confirmed (diary.models.ImportStash).
        line = text.count("\n", 0, text.index(rules.NUL)) + 1
        out.error(at_line(line, rules.nul_problem(gettext("the file"), text) or ""))
    rows.sort(key=lambda r: r.date)
    _check_dose_sequence(rows, out)
    if out.ok and not rows:
        out.error(gettext("The file has only the header line; there are no days to import."))
    out.rows = rows if out.ok else []
    return out


def _check_dose_sequence(rows: list[DiaryRow], out: ParsedDiary) -> None:
    """An empty dose_mg means "no LDN yet", so it cannot follow a day that had a dose."""
    first_dosed: DiaryRow | None = None
    for row in rows:
        if row.dose_ug is not None and first_dosed is None:
            first_dosed = row
        elif row.dose_ug is None and first_dosed is not None:
            out.error(
                at_line(
                    row.line,
                    gettext(
                        "dose_mg is empty, but %(date)s (line %(line)s) already has a dose; "
                        "write 0 for stopped or paused, or the dose you took"
                    )
                    % {"date": first_dosed.date.isoformat(), "line": first_dosed.line},
                )
            )


def dose_change_points(rows: Iterable[DiaryRow]) -> list[tuple[dt.date, int]]:
    """Where the file's dose differs from the previous row's (the first dose counts too)."""
    points: list[tuple[dt.date, int]] = []
    previous: int | None = None
    for row in rows:
        if row.dose_ug is not None and row.dose_ug != previous:
            points.append((row.date, row.dose_ug))
        previous = row.dose_ug
    return points


def entry_to_cells(entry: DiaryEntry, dose_ug: int | None) -> list[str]:
    return [
        entry.date.isoformat(),
        str(entry.pain),
        str(entry.fatigue),
        str(entry.sleep),
        str(entry.mood),
        entry.dreams,
        encode_side_effects(entry.side_effects, entry.side_effect_other),
        "" if entry.dose_taken == DoseTaken.NOT_APPLICABLE else entry.dose_taken,
        format_mg(dose_ug),
        escape_formula(entry.note),
    ]


class _Echo:
    """A file-like object whose write returns the line, for streaming (Django docs' pattern)."""

    def write(self, value: str) -> str:
        return value


def diary_csv_lines(entries: Iterable[DiaryEntry], timeline: list[DoseChange]) -> Iterator[str]:
    """The export: the header, then one line per entry (pass them oldest first)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for entry in entries:
        change = dose_at(timeline, entry.date)
        yield writer.writerow(entry_to_cells(entry, change.dose_ug if change else None))


# --- Other treatments and life events: a file of their own --------------------------------------

# A separate file, so the diary's format above stays exactly as it is (README.md, "Treatments
# and events CSV"). A flare or life event has no stop date, category or name; its words are
# in ``note``. Names and notes are free text, defused like the diary's (``escape_formula``):
# the Doses page and the patient's zip (core.datarights) both write this file.
TREATMENT_COLUMNS = ("kind", "start_date", "stop_date", "category", "name", "note")
TREATMENT_KIND = "treatment"


def treatments_csv_lines(
    treatments: Iterable[Treatment], events: Iterable[LifeEvent]
) -> Iterator[str]:
    """The header, then every treatment and event, oldest first (on one day, treatments first)."""
    rows: list[tuple[dt.date, int, tuple[str, ...]]] = []
    for t in treatments:
        stop = t.stop_date.isoformat() if t.stop_date else ""
        rows.append(
            (
                t.start_date,
                0,
                (
                    TREATMENT_KIND,
                    t.start_date.isoformat(),
                    stop,
                    t.category,
                    escape_formula(t.name),
                    escape_formula(t.note),
                ),
            )
        )
    for e in events:
        rows.append((e.date, 1, (e.kind, e.date.isoformat(), "", "", "", escape_formula(e.text))))
    writer = csv.writer(_Echo())
    yield writer.writerow(TREATMENT_COLUMNS)
    for _day, _kind, row in sorted(rows):
        yield writer.writerow(row)
