# OneOnOne API: slim image, non-root, served by gunicorn.
# Migrations are their own step: the `migrate` service of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# A throwaway key: collectstatic signs nothing, and a key written here would be public.
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app oneonone \
    && chown -R oneonone /app/staticfiles

USER oneonone
EXPOSE 8000
ENV GUNICORN_BIND=0.0.0.0:8000
CMD ["gunicorn", "oneonone.wsgi", "-c", "oneonone/gunicorn.conf.py"]
