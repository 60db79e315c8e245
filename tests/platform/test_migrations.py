import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    """A model changed without `makemigrations` would reach production without its table change
    (and without the RLS that follows every migrate)."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
