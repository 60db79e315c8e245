"""`manage.py shell`, with every change made in it recorded in history as made from the shell.

A change typed at a prompt is the hardest to trace afterwards; this marks it without anyone
remembering to. (Enter a tenant as usual: `with tenant_context(tenant): ...`.)
"""

from django.core.management.commands.shell import Command as DjangoShellCommand

from crm.audit.history import history_source


class Command(DjangoShellCommand):
    help = DjangoShellCommand.help + " Changes made in it are recorded in history with source 'shell'."

    def handle(self, **options):
        with history_source("shell", command="shell"):
            return super().handle(**options)
