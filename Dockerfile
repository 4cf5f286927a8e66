# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10001 ldn
COPY pyproject.toml README.md ./
COPY ldn_diary ./ldn_diary
RUN pip install .
COPY . .
# Hashed, compressed static files for whitenoise; needs a throwaway key only at build time.
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --no-input
USER ldn
EXPOSE 8000
CMD ["gunicorn", "ldn_diary.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
