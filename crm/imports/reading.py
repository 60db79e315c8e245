"""Reading uploaded files: where they are kept, their encoding, delimiter, rows and line numbers.

Files live in a private directory per tenant and job (`job_dir`), under IMPORTS_ROOT (a setting;
by default `<project>/.data/imports`, git-ignored), which no URL serves: the error CSV is sent by a view that
checks who asks.

Line numbers are the row numbers a spreadsheet shows: the header is line 1, the first record
line 2, and a record whose quoted cell spans several physical lines still counts as one line (as
Excel or LibreOffice show it when they open the file). We chose this over the physical line
because it is the number the salesperson sees next to the row in the program they use to fix
the file, and it is the same number for CSV and XLSX. Empty lines count (a spreadsheet shows
them as empty rows) and are skipped.

Encoding: UTF-8 with or without a byte-order mark, else Windows-1252 (the superset of Latin-1
that Excel writes on Western systems), else Latin-1 (which decodes any byte). The whole file is
checked by an incremental decoder at upload, so a stray byte at row 900,000 is noticed before
any row is read. Delimiter: sniffed among , ; tab | on the first 64 kB, else the most frequent of
them in the header line.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
MAX_CELL = 1_000_000
csv.field_size_limit(MAX_CELL)


def imports_root() -> Path:
    root = getattr(settings, "IMPORTS_ROOT", None)
    return Path(root) if root else Path(settings.BASE_DIR) / ".data" / "imports"


def job_dir(tenant_id, job_id, *, create: bool = True) -> Path:
    path = imports_root() / str(tenant_id) / str(job_id)
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def upload_path(job) -> Path:
    return job_dir(job.tenant_id, job.pk) / f"upload.{job.file_format}"


# --- detection ------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


def detect_delimiter(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as fh:
        sample = fh.read(SNIFF_BYTES)
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def file_format(name: str, head: bytes) -> str:
    """"xlsx" for a workbook (a zip file), else "csv"."""
    if head[:4] == b"PK\x03\x04" or name.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"
    return "csv"


# --- rows -----------------------------------------------------------------------------------


def rows(path: Path, *, fmt: str, encoding: str = "utf-8", delimiter: str = ",") -> Iterator[tuple[int, list]]:
    """(line, cells) for every row, the header first (line 1). CSV cells are strings; XLSX cells
    are what the workbook holds (str, int, float, datetime, bool or None)."""
    if fmt == "xlsx":
        yield from _xlsx_rows(path)
        return
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        line = 0
        for record in reader:
            line += 1
            yield line, record


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        line = 0
        for record in sheet.iter_rows(values_only=True):
            line += 1
            yield line, list(record)
    finally:
        workbook.close()


def header_of(path: Path, *, fmt: str, encoding: str, delimiter: str) -> list[str]:
    for _, cells in rows(path, fmt=fmt, encoding=encoding, delimiter=delimiter):
        return [cell_text(c) for c in cells]
    return []


def sample_rows(path: Path, *, fmt: str, encoding: str, delimiter: str, count: int = 3) -> list[list[str]]:
    found = []
    for line, cells in rows(path, fmt=fmt, encoding=encoding, delimiter=delimiter):
        if line == 1:
            continue
        if any(not is_blank(c) for c in cells):
            found.append([cell_text(c) for c in cells])
        if len(found) >= count:
            break
    return found


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value) -> str:
    """A cell as text: workbook numbers without a spurious ".0", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def normalise_header(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.casefold())


def layout_signature(header: list[str]) -> str:
    return hashlib.sha256("\x1f".join(normalise_header(h) for h in header).encode()).hexdigest()


def write_csv(path: Path, header: list[str], records) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(records)


def csv_bytes(header: list[str], records) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(records)
    return out.getvalue().encode("utf-8-sig")
