#!/bin/sh
# One image, several roles: web | worker | beat | mailsink | any command.
set -e

case "${1:-web}" in
  web)
    # Migrations run as the schema owner; the site itself connects as the application role
    # (DATABASE_URL: NOSUPERUSER, NOBYPASSRLS, owns nothing), so RLS binds it.
    CRM_DB_ROLE=owner python manage.py migrate --noinput
    exec gunicorn crm.wsgi:application \
      --bind 0.0.0.0:8000 \
      --workers "${WEB_CONCURRENCY:-3}" \
      --worker-tmp-dir /dev/shm \
      --access-logfile - \
      --timeout "${WEB_TIMEOUT:-30}"
    ;;
  worker)
    exec celery -A crm worker -l "${LOG_LEVEL:-info}" --concurrency "${WORKER_CONCURRENCY:-4}"
    ;;
  beat)
    # the schedule is in code (crm/celery.py); the file only remembers the last runs
    exec celery -A crm beat -l "${LOG_LEVEL:-info}" -s /tmp/celerybeat-schedule
    ;;
  mailsink)
    exec python scripts/mailsink.py
    ;;
  *)
    exec "$@"
    ;;
esac
