"""Imports as jobs: upload, mapping, the check (dry run), the real run.

    job = job_create(actor=…, object="contacts", upload=file, duplicates="skip")   # detects, maps
    job_set_mapping(actor=…, job=job, mapping={"E-mail": "email", …})              # remembered
    job_start(actor=…, job=job, mode="dry_run" | "all_or_nothing" | "valid_rows")   # queued
    job_validate(job_id=…, tenant=…)        # (the task) every row checked; nothing written
    job_run(job_id=…, tenant=…)             # (the task) the write, in one transaction

`job_validate` and `job_run` are what the Celery tasks (tasks.py) call; pages and the API call
`job_start`, which queues them after commit. The job runs as the person who started it: their
owners, the accounts they can see and the records they may edit (crm.access) decide each row.

A file with any bad row writes nothing in "all_or_nothing" mode; "valid_rows" writes the valid
ones and leaves the rest in the error CSV. Either way the write is one transaction (writing.py).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from crm.access import policy
from crm.audit.history import history_source
from crm.customfields import services as customfields
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership

from . import objects, reading, writing
from .models import DuplicatePolicy, ImportJob, ImportMapping, Mode, Status
from .validation import CUSTOM_PREFIX, Validator

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
MAX_COLUMNS = 500


# --- fields and mapping ---------------------------------------------------------------------


def field_choices(tenant_id, importer, actor=None) -> list[tuple[str, str]]:
    """(key, label) of every field a column can go to: built-in, then active custom fields. With an
    actor, only those they may set (field-level security: no hidden or read-only target)."""
    choices = [(f.key, f.label + (" *" if f.required else "")) for f in importer.fields]
    choices += [(f"{CUSTOM_PREFIX}{s.name}", s.label + (" *" if s.required and s.default is None else ""))
                for s in customfields.specs(tenant_id, importer.key)]
    if actor is not None:
        restricted = objects.restricted_targets(actor, importer)
        choices = [(key, label) for key, label in choices if key not in restricted]
    return choices


def target_labels(tenant_id, importer) -> dict[str, str]:
    return {key: label.rstrip(" *") for key, label in field_choices(tenant_id, importer)}


def read_only_columns(actor, importer, header: list[str]) -> dict[int, str]:
    """Column position -> why it is not imported, for the columns whose header names a field that
    is read only for the actor (a hidden field is simply not offered, and not named)."""
    restricted = objects.restricted_targets(actor, importer)
    if not restricted:
        return {}
    labels = target_labels(actor.tenant_id, importer)
    return {i: f"Not imported: {labels.get(key, key)} is read only for you."
            for i, key in enumerate(auto_mapping(actor.tenant_id, importer, header))
            if key and restricted.get(key) == "read_only"}


def auto_mapping(tenant_id, importer, header: list[str], actor=None) -> list[str]:
    """Each column's field by its header: key, label or an alias, compared without case, spaces
    or punctuation; a field is used once (the first column wins). With an actor, a column whose
    field they may not set stays unmapped."""
    index: dict[str, str] = {}
    for s in customfields.specs(tenant_id, importer.key):
        for name in (s.name, s.label):
            index.setdefault(reading.normalise_header(name), f"{CUSTOM_PREFIX}{s.name}")
    for f in importer.fields:  # built-in names win over custom labels
        for name in (f.key, f.label):
            index[reading.normalise_header(name)] = f.key
    for f in importer.fields:
        for alias in f.aliases:
            index.setdefault(reading.normalise_header(alias), f.key)
    used, mapping = set(), []
    for title in header:
        key = index.get(reading.normalise_header(title), "")
        if key in used:
            key = ""
        used.add(key)
        mapping.append(key)
    if actor is not None:
        restricted = objects.restricted_targets(actor, importer)
        mapping = [key if key not in restricted else "" for key in mapping]
    return mapping


def _clean_mapping(tenant_id, importer, header: list[str], mapping, actor=None) -> list[str]:
    """A list of field keys by column from a list, or from {column header or index: key}. With an
    actor, a column sent to a field they may not set is refused (objects.guard_mapping)."""
    if isinstance(mapping, str):
        try:
            mapping = json.loads(mapping)
        except ValueError:
            raise ValidationError({"mapping": "The mapping is not valid JSON."}) from None
    if isinstance(mapping, dict):
        result = [""] * len(header)
        for column, key in mapping.items():
            if str(column).isdigit() and int(column) < len(header):
                position = int(column)
            elif column in header:
                position = header.index(column)
            else:
                raise ValidationError({"mapping": f"The file has no column “{column}”."})
            result[position] = key or ""
        mapping = result
    if not isinstance(mapping, list) or len(mapping) != len(header):
        raise ValidationError({"mapping": "Give one field (or nothing) for each column of the file."})
    known = dict(field_choices(tenant_id, importer))
    used: dict[str, int] = {}
    for position, key in enumerate(mapping):
        key = key or ""
        if not isinstance(key, str) or (key and key not in known):
            raise ValidationError({"mapping": f"“{key}” is not a field of {importer.label.lower()}."})
        if key and key in used:
            raise ValidationError({"mapping": f"“{header[used[key]]}” and “{header[position]}” both go to "
                                              f"{known[key].rstrip(' *')}: choose one."})
        if key:
            used[key] = position
    if actor is not None:
        objects.guard_mapping(actor, importer, header, [k or "" for k in mapping], labels=target_labels(
            tenant_id, importer))
    missing = [f.label for f in importer.fields if f.required and f.key not in used]
    missing += [s.label for s in customfields.specs(tenant_id, importer.key)
                if s.required and s.default is None and f"{CUSTOM_PREFIX}{s.name}" not in used]
    if missing:
        raise ValidationError({"mapping": f"Choose a column for: {', '.join(missing)} (required)."})
    return [k or "" for k in mapping]


# --- use cases ------------------------------------------------------------------------------


def _importer(key: str):
    try:
        return objects.get(key)
    except KeyError:
        names = ", ".join(i.key for i in objects.all_importers())
        raise ValidationError({"object": f"“{key}” cannot be imported: choose one of {names}."}) from None


@transaction.atomic
def job_create(*, actor: Membership, object: str, upload, duplicates: str = DuplicatePolicy.SKIP,
               mode: str = Mode.DRY_RUN, mapping=None) -> ImportJob:
    """Store the uploaded file privately, detect its format, encoding and delimiter, read its header
    and map its columns (the mapping given, else the one remembered for this layout, else by name)."""
    importer = _importer(object)
    policy.require(actor, "import")
    policy.require(actor, "create", object)
    if upload is None:
        raise ValidationError({"file": "Choose a CSV or Excel (.xlsx) file."})
    if duplicates not in DuplicatePolicy.values:
        raise ValidationError({"duplicates": "Choose skip, update or create."})
    if mode not in Mode.values:
        raise ValidationError({"mode": "Choose dry_run, all_or_nothing or valid_rows."})
    size = getattr(upload, "size", 0) or 0
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."})
    name = (getattr(upload, "name", "") or "import.csv").rsplit("/", 1)[-1][:255]
    head = upload.read(8)
    upload.seek(0)
    job = ImportJob(tenant_id=actor.tenant_id, object=importer.key, file_name=name, file_size=size,
                    file_format=reading.file_format(name, head), duplicates=duplicates, mode=mode,
                    created_by=actor)
    path = reading.upload_path(job)
    with open(path, "wb") as fh:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b""):
            fh.write(chunk)
    job.file_size = path.stat().st_size
    try:
        if job.file_format == "csv":
            job.encoding = reading.detect_encoding(path)
            job.delimiter = reading.detect_delimiter(path, job.encoding)
        header = reading.header_of(path, fmt=job.file_format, encoding=job.encoding, delimiter=job.delimiter or ",")
    except Exception as exc:  # a damaged workbook, a binary file: the user's mistake, not a 500
        shutil.rmtree(path.parent, ignore_errors=True)
        raise ValidationError({"file": "This file cannot be read as CSV or Excel (.xlsx)."}) from exc
    if not any(h.strip() for h in header):
        shutil.rmtree(path.parent, ignore_errors=True)
        raise ValidationError({"file": "The file is empty: the first line must name the columns."})
    if len(header) > MAX_COLUMNS:
        raise ValidationError({"file": f"The file has more than {MAX_COLUMNS} columns."})
    job.header = header
    job.layout = reading.layout_signature(header)
    remembered = ImportMapping.objects.for_tenant(actor.tenant_id).filter(object=importer.key, layout=job.layout).first()
    if mapping not in (None, "", {}):
        job.mapping = _clean_mapping(actor.tenant_id, importer, header, mapping, actor=actor)
    else:
        job.mapping = auto_mapping(actor.tenant_id, importer, header, actor=actor)
        if remembered is not None and len(remembered.mapping) == len(header):
            known = dict(field_choices(actor.tenant_id, importer, actor=actor))
            job.mapping = [k if k in known else "" for k in remembered.mapping]
    job.save()
    return job


def remembered_mapping(job: ImportJob) -> bool:
    return ImportMapping.objects.for_tenant(job.tenant_id).filter(object=job.object, layout=job.layout).exists()


def _require_own(actor: Membership, job: ImportJob) -> None:
    if job.tenant_id != actor.tenant_id or job.created_by_id != actor.pk:
        raise PermissionDenied("Only the person who uploaded the file can change or run this import.")


@transaction.atomic
def job_set_mapping(*, actor: Membership, job: ImportJob, mapping, duplicates: str | None = None) -> ImportJob:
    """Set the columns' fields (and remember them for this layout); the job must be checked again."""
    _require_own(actor, job)
    if job.is_busy or job.status == Status.DONE:
        raise ValidationError({"mapping": "This import is running or done; start a new one to change it."})
    if files_expired(job):
        raise ValidationError({"file": files_expired_message()})
    importer = _importer(job.object)
    job.mapping = _clean_mapping(actor.tenant_id, importer, job.header, mapping, actor=actor)
    if duplicates is not None:
        if duplicates not in DuplicatePolicy.values:
            raise ValidationError({"duplicates": "Choose skip, update or create."})
        job.duplicates = duplicates
    job.status = Status.UPLOADED
    job.save()
    ImportMapping.objects.update_or_create(
        tenant_id=actor.tenant_id, object=job.object, layout=job.layout,
        defaults={"header": job.header, "mapping": job.mapping},
    )
    return job


def job_start(*, actor: Membership, job: ImportJob, mode: str | None = None, validate: bool = True) -> ImportJob:
    """Queue the check (and, unless a dry run, the write after it) for after this transaction."""
    from . import tasks

    _require_own(actor, job)
    if files_expired(job):
        raise ValidationError({"file": files_expired_message()})
    mode = mode or job.mode
    if mode not in Mode.values:
        raise ValidationError({"mode": "Choose dry_run, all_or_nothing or valid_rows."})
    if job.is_busy or job.status == Status.DONE:
        raise ValidationError({"mode": "This import is already running or done."})
    # required fields mapped; no field the actor may not set (a mapping stored before a restriction)
    _clean_mapping(actor.tenant_id, _importer(job.object), job.header, job.mapping, actor=actor)
    if not validate and job.status != Status.VALIDATED:
        validate = True
    if not validate and mode == Mode.ALL_OR_NOTHING and job.invalid:
        raise ValidationError({"mode": f"{_rows_have(job.invalid)} errors: fix the file, or import only the "
                                       "valid rows."})
    job.mode = mode
    job.status = Status.VALIDATING if validate else Status.RUNNING
    job.message = ""
    job.processed = 0
    job.save(update_fields=["mode", "status", "message", "processed", "updated_at"])
    tenant_id, job_id = str(job.tenant_id), str(job.pk)
    if validate:
        transaction.on_commit(lambda: tasks.validate_import.delay(tenant_id=tenant_id, job_id=job_id,
                                                                  then_run=mode != Mode.DRY_RUN))
    else:
        transaction.on_commit(lambda: tasks.run_import.delay(tenant_id=tenant_id, job_id=job_id))
    return job


def _reload(job_id, tenant) -> ImportJob:
    return ImportJob.objects.for_tenant(tenant).select_related("created_by__user", "created_by__tenant").get(pk=job_id)


def job_validate(*, job_id, tenant) -> ImportJob:
    """Check every row (the dry run): counts, errors, preview, spool files. Commits in small steps
    (progress shows); writes no record. Not atomic on purpose: called by the task outside any
    transaction."""
    with tenant_context(tenant):
        job = _reload(job_id, tenant)
        if job.status == Status.DONE:
            return job
        job.status, job.processed, job.message = Status.VALIDATING, 0, ""
        job.save(update_fields=["status", "processed", "message", "updated_at"])
    actor = job.created_by
    importer = objects.get(job.object)
    try:
        with tenant_context(tenant):
            specs = customfields.specs(tenant, importer.key)
            try:
                validator = Validator(actor=actor, importer=importer, specs=specs, header=job.header,
                                      mapping=job.mapping, duplicates=job.duplicates)
            except ValidationError as exc:  # the mapping names a field the uploader may no longer set
                return _refused(job, tenant, "Nothing was checked: " + " ".join(exc.messages))

        def progress(done: int) -> None:
            with tenant_context(tenant):
                ImportJob.objects.for_tenant(tenant).filter(pk=job.pk).update(processed=done)

        path = reading.upload_path(job)
        outcome = validator.run(
            reading.rows(path, fmt=job.file_format, encoding=job.encoding or "utf-8", delimiter=job.delimiter or ","),
            directory=path.parent, progress=progress, in_tenant=lambda: tenant_context(tenant),
        )
    except Exception as exc:
        with tenant_context(tenant):
            ImportJob.objects.for_tenant(tenant).filter(pk=job.pk).update(
                status=Status.FAILED, message=f"The file could not be checked: {str(exc)[:300]}",
                finished_at=timezone.now())
        raise
    with tenant_context(tenant):
        job = _reload(job_id, tenant)
        job.rows, job.valid, job.invalid = outcome.rows, outcome.valid, outcome.invalid
        job.errors, job.error_count, job.preview = outcome.errors, outcome.error_count, outcome.preview
        job.created, job.updated, job.skipped = outcome.to_create, outcome.to_update, outcome.to_skip
        job.processed = outcome.rows
        job.status, job.validated_at = Status.VALIDATED, timezone.now()
        job.save()
    return job


class ImportRefused(Exception):
    pass


def _refused(job: ImportJob, tenant, message: str) -> ImportJob:
    with tenant_context(tenant):
        ImportJob.objects.for_tenant(tenant).filter(pk=job.pk).update(
            status=Status.FAILED, message=message[:500], created=0, updated=0, finished_at=timezone.now())
        return _reload(job.pk, tenant)


def job_run(*, job_id, tenant) -> ImportJob:
    """The real run: all rows or only the valid ones, in one transaction (writing.py). A second
    run of the same job (a redelivered task) waits for the first and then does nothing."""
    with tenant_context(tenant):
        job = _reload(job_id, tenant)
        if job.status == Status.DONE:
            return job
        if job.status not in (Status.VALIDATED, Status.RUNNING) or job.mode == Mode.DRY_RUN:
            return job
        if job.mode == Mode.ALL_OR_NOTHING and job.invalid:
            job.status, job.finished_at = Status.FAILED, timezone.now()
            job.message = f"Nothing was imported: {_rows_have(job.invalid)} errors. Fix them, or import only the valid rows."
            job.created = job.updated = 0
            job.save()
            return job
        job.status, job.processed, job.started_at = Status.RUNNING, 0, timezone.now()
        job.save(update_fields=["status", "processed", "started_at", "updated_at"])
    actor = job.created_by
    importer = objects.get(job.object)
    directory = reading.upload_path(job).parent
    reporter = writing.ProgressReporter(tenant.pk, job.pk)
    try:
        with tenant_context(tenant):  # the mapping guard, before anything is written
            objects.guard_mapping(actor, importer, job.header, job.mapping)
    except ValidationError as exc:
        reporter.close()
        return _refused(job, tenant, "Nothing was imported: " + " ".join(exc.messages))
    try:
        with tenant_context(tenant), history_source("import", actor=actor, file=job.file_name, job=str(job.pk)):
            from django.db import connection

            with connection.cursor() as cursor:  # one writer per job: a redelivered task waits here
                cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"import:{job.pk}"])
            job = _reload(job_id, tenant)
            if job.status == Status.DONE:
                return job
            specs = customfields.specs(tenant, importer.key)
            validator = Validator(actor=actor, importer=importer, specs=specs, header=job.header,
                                  mapping=job.mapping, duplicates=job.duplicates)
            created, updated = writing.write(
                actor=actor, importer=importer, job=job, columns=validator.stage_columns(),
                mapped=set(validator.mapped_keys) | ({"domain"} if "website" in validator.mapped_keys else set()),
                directory=directory, specs=specs, progress=reporter,
            )
            job.created, job.updated = created, updated
            job.processed = job.rows
            job.status, job.finished_at = Status.DONE, timezone.now()
            job.save()
    except Exception as exc:
        with tenant_context(tenant):
            ImportJob.objects.for_tenant(tenant).filter(pk=job.pk).update(
                status=Status.FAILED, finished_at=timezone.now(), created=0, updated=0,
                message="The import stopped and nothing was written. Try again; if it fails again, "
                        f"send us the file. ({type(exc).__name__})")
        raise
    finally:
        reporter.close()
    for spool in ("records.copy", "values.copy"):  # the records now live in their tables
        (directory / spool).unlink(missing_ok=True)
    return job


# --- keeping the files ----------------------------------------------------------------------

# The upload, the spool files and the error CSV are kept for a week after a job ends, then removed
# by the daily purge (tasks.purge_import_files); the job row, its counts and its first
# MAX_STORED_ERRORS errors stay, so the history of what was imported, by whom, remains readable.
FILES_KEPT_FOR = dt.timedelta(days=7)
FILES_EXPIRED = ("The files of this import were removed {days} days after it ended: the error file has "
                 "expired. The first errors are still listed on the import's page; upload the file again "
                 "to check or import it anew.")


def files_expire_at(job: ImportJob):
    """When the job's files may be removed, or None while it is checking or running. A job ends
    when it is done or failed, when its check (a dry run) ended, or, for an upload never
    checked, when it was last changed."""
    if job.is_busy:
        return None
    if job.status in (Status.DONE, Status.FAILED):
        ended = job.finished_at or job.updated_at
    elif job.status == Status.VALIDATED:
        ended = job.validated_at or job.updated_at
    else:
        ended = job.updated_at
    return ended + FILES_KEPT_FOR if ended else None


def files_expired(job: ImportJob, now=None) -> bool:
    expire_at = files_expire_at(job)
    return expire_at is not None and expire_at <= (now or timezone.now())


def files_expired_message() -> str:
    return FILES_EXPIRED.format(days=FILES_KEPT_FOR.days)


def import_files_purge(*, now=None) -> int:
    """Remove the files of every job whose files expired (files_expire_at), in every tenant; the
    job rows stay. A folder whose job no longer exists (a deleted tenant or job, an upload that
    failed before its job was saved) goes when it has not changed for FILES_KEPT_FOR. Returns the
    number of job folders removed. Idempotent; safe beside running jobs (busy ones never expire)."""
    import uuid

    from crm.tenancy.models import Tenant

    now = now or timezone.now()
    root = reading.imports_root()
    if not root.is_dir():
        return 0
    removed = 0
    for tenant_dir in root.iterdir():
        try:
            tenant_id = uuid.UUID(tenant_dir.name)
        except ValueError:
            continue
        if not tenant_dir.is_dir():
            continue
        folders = {}
        for folder in tenant_dir.iterdir():
            try:
                folders[uuid.UUID(folder.name)] = folder
            except ValueError:
                continue
        tenant = Tenant.objects.filter(pk=tenant_id).first()
        jobs = {}
        if tenant is not None and folders:
            with tenant_context(tenant):
                jobs = {job.pk: job for job in ImportJob.objects.for_tenant(tenant).filter(pk__in=list(folders))}
        for job_id, folder in folders.items():
            job = jobs.get(job_id)
            if job is not None:
                expired = files_expired(job, now)
            else:
                changed = dt.datetime.fromtimestamp(folder.stat().st_mtime, tz=dt.UTC)
                expired = changed + FILES_KEPT_FOR <= now
            if expired:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        try:
            tenant_dir.rmdir()  # only when empty
        except OSError:
            pass
    return removed


def _rows_have(n: int) -> str:
    """"1 row has" / "2 rows have": the subject of an error sentence."""
    return f"{n:,} row has" if n == 1 else f"{n:,} rows have"
