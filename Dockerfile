# DeerWeb: one image for every role. The default command is the web server;
# docker-compose.yml runs the worker, beat and the sandbox simulator from the
# same image with other commands:
#   celery -A deerweb worker --loglevel INFO
#   celery -A deerweb beat --loglevel INFO --schedule /tmp/celerybeat-schedule
#   python manage.py deerapi_simulator --host 0.0.0.0 --port 8765
FROM python:3.12-slim

# PYTHONPATH: the source tree in /app is what runs (settings.py finds templates/,
# static/, locale/ and staticfiles/ beside it); the copy `pip install .` leaves
# in site-packages is shadowed.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    MEDIA_ROOT=/data/media

# A real home: a shell from `docker compose exec` keeps its history there.
RUN groupadd --system --gid 10001 deerweb \
    && useradd --system --uid 10001 --gid deerweb --create-home \
        --home-dir /home/deerweb --shell /usr/sbin/nologin deerweb

WORKDIR /app

# Dependencies first, read from pyproject.toml alone (no dev extras), so an
# edit to the code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# `pip install .` (its dependencies are already there); collectstatic with a
# build-only key: settings.py needs one at import, and it is in no layer's ENV.
# CELERY_BROKER_URL=memory:// keeps settings.py from creating a root-owned
# var/broker for the default filesystem broker.
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info \
    && chmod 0755 docker/entrypoint.sh \
    && DJANGO_SECRET_KEY=collectstatic-only CELERY_BROKER_URL=memory:// \
        python manage.py collectstatic --noinput \
    && install -d -o deerweb -g deerweb -m 0750 /app/var /data/media

# /data/media is meant for a volume (docker-compose.yml mounts `media` there; a
# new named volume takes this directory's owner). No VOLUME instruction: it would
# give beat and the simulator, which store no files, anonymous volumes.
USER 10001:10001
EXPOSE 8000

ENTRYPOINT ["/app/docker/entrypoint.sh"]
# The web server: uvicorn runs DeerWeb's ASGI application (deerweb/asgi.py), so a request
# waiting on a prediction (Prefer: wait) holds no worker: 3 processes, each an event loop.
# Forwarded headers are DeerWeb's to read (DEERWEB_PROXY_COUNT, DEERWEB_HTTPS), not uvicorn's.
# Waiting requests get 20 s to finish on `docker compose stop` (the web service allows 30).
CMD ["uvicorn", "deerweb.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "3", \
     "--no-proxy-headers", "--lifespan", "off", "--timeout-graceful-shutdown", "20"]
