"""Background imports for the admin upload page: an ImportRun row, a django-tasks task, live progress.

The upload view saves the file(s) and an ImportRun, then enqueues `run_uploaded_import`; the worker
(`manage.py db_worker`, started by `make run`) runs the same `registry.run_import` as the command. The
import itself is one transaction, so progress is written through a second database connection that
commits on its own (PostgreSQL; SQLite allows one writer, so there the status changes only at the end).
"""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import connections
from django.utils import timezone
from django_tasks import task

from codes.importers import registry
from codes.importers.base import ImportFailure
from codes.models import ImportRun

logger = logging.getLogger(__name__)


def create_run(*, files: list, user, dry_run: bool) -> ImportRun:
    """Store uploaded files (several go into one zip, which the registry reads member by member) as a queued run."""
    if len(files) == 1:
        name, content = files[0].name, files[0].read()
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for upload in files:
                archive.writestr(Path(upload.name).name, upload.read())
        name, content = "upload.zip", buffer.getvalue()
    run = ImportRun(source_name=", ".join(Path(f.name).name for f in files)[:255], created_by=user, dry_run=dry_run)
    run.stored_file.save(Path(name).name, ContentFile(content), save=False)
    run.save()
    return run


class _ProgressWriter:
    """Write an ImportRun's percent done from outside the import's transaction (PostgreSQL only)."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.connection = connections.create_connection("default") if connections["default"].vendor == "postgresql" else None
        self.last = -1

    def callback(self, job_index: int, job_count: int):
        def update(done: int, total: int) -> None:
            percent = int(100 * (job_index + (done / total if total else 1)) / max(job_count, 1))
            if self.connection is None or percent == self.last:
                return
            self.last = percent
            with self.connection.cursor() as cursor:
                cursor.execute("UPDATE codes_importrun SET progress = %s WHERE id = %s", [min(percent, 99), self.run_id])

        return update

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def execute(run: ImportRun) -> ImportRun:
    """Run a stored import now (what the task does); record the outcome on the run."""
    run.status = ImportRun.Status.RUNNING
    run.save(update_fields=["status"])
    path = Path(run.stored_file.path)
    writer = _ProgressWriter(run.pk)
    jobs = iter(range(1000))
    try:
        sources = registry.expand([path])
        run.sha256 = sources[0].sha256 if len(sources) == 1 else ""
        count = len(registry.plan(sources))
        results = registry.run_import(
            sources, dry_run=run.dry_run, user=run.created_by, progress_for=lambda name: writer.callback(next(jobs), count)
        )
    except ImportFailure as exc:
        run.status, run.message = ImportRun.Status.FAILED, f"Import failed, nothing was changed: {exc}"
        run.report = {
            "error": {"file": exc.file, "line": exc.line, "column": exc.column, "sheet": exc.sheet, "message": exc.message}
        }
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the run "running" forever; it is logged
        logger.exception("import run %s failed", run.pk)
        run.status = ImportRun.Status.FAILED
        run.message = f"Import failed, nothing was changed: internal error ({type(exc).__name__})"
    else:
        run.status = ImportRun.Status.DRY_RUN if run.dry_run else ImportRun.Status.SUCCEEDED
        run.kind = ", ".join(dict.fromkeys(r.kind for r in results))[:64]
        run.message = "\n".join(r.summary() for r in results)
        run.report = {"results": [r.as_dict() for r in results]}
        run.progress = 100
    finally:
        writer.close()
    run.finished_at = timezone.now()
    run.save()
    return run


@task()
def run_uploaded_import(run_id: int) -> str:
    """Background task: import the files of one ImportRun."""
    return execute(ImportRun.objects.get(pk=run_id)).status
