"""Every Celery task's changes are recorded as made by a job, with the task's name.

Connected to Celery's task_prerun/task_postrun (both sent in the worker's thread around the
task body, and for eager `apply()` too), so no task and no base class has to remember it. A task
that acts for a person adds them inside its body: `with job_context(self.name, actor=membership)`.
"""

from __future__ import annotations

from celery.signals import task_postrun, task_prerun

from .history import job_context

_open: dict[str, list] = {}


@task_prerun.connect(dispatch_uid="crm.audit.signals.enter_job_context")
def enter_job_context(sender=None, task_id=None, task=None, **kwargs):
    context = job_context(task.name if task is not None else str(sender), task_id=task_id)
    context.__enter__()
    _open.setdefault(task_id, []).append(context)


@task_postrun.connect(dispatch_uid="crm.audit.signals.leave_job_context")
def leave_job_context(sender=None, task_id=None, **kwargs):
    stack = _open.get(task_id)
    if not stack:
        return
    context = stack.pop()
    if not stack:
        del _open[task_id]
    context.__exit__(None, None, None)
