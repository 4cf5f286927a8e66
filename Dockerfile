# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
# PYTHONPATH: the app runs from its source in /app rather than as an installed package, so
# gunicorn, celery -A ldn_diary and manage.py all import it from there.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PYTHONPATH=/app
WORKDIR /app
RUN useradd --create-home --uid 10001 ldn
# Runtime dependencies only, exactly as locked: every version pinned and every file checked
# against its hash (requirements/base.txt; the dev tools are in requirements/dev.txt, not here).
COPY requirements/base.txt requirements/base.txt
RUN pip install --require-hashes -r requirements/base.txt
COPY . .
# Hashed, compressed static files for whitenoise; needs a throwaway key and mail host only at
# build time (the settings insist on both with DEBUG off; nothing is sent).
RUN SECRET_KEY=build-only EMAIL_HOST=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --no-input
USER ldn
EXPOSE 8000
CMD ["gunicorn", "ldn_diary.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
