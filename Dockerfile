# The production-like image: web (gunicorn), Celery worker and beat, and the mail sink all run it
# (docker/entrypoint.sh picks the role). See docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # the checkout in /app (templates/, static/ live beside crm/) wins over the installed copy
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=crm.settings.prod

RUN useradd --system --create-home --uid 10001 crm
WORKDIR /app

# Dependencies first, from pyproject.toml, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput \
    && mkdir -p /mail /files \
    && chown -R crm:crm /app/.data /mail /files \
    && chmod +x docker/entrypoint.sh

USER crm
EXPOSE 8000
ENTRYPOINT ["docker/entrypoint.sh"]
CMD ["web"]
