# atende container image.
#
#   docker build -t atende .                   # runtime (the default, last stage)
#   docker build --target jupyter -t atende-jupyter .
#
# Stages: base -> builder (venv with `pip install .`) -> builder-notebooks (+ .[notebooks])
#         base -> runtime-base (libmagic1, non-root user, /data) -> jupyter | runtime
# Only plain Dockerfile syntax is used (no RUN --mount), so the legacy builder that
# docker-compose v1 drives works as well as BuildKit.

ARG PYTHON_IMAGE=python:3.11-slim

# --------------------------------------------------------------------------- base
FROM ${PYTHON_IMAGE} AS base
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# ------------------------------------------------------------------------ builder
# Every dependency ships manylinux wheels for CPython 3.11 (asyncpg, uvloop, httptools,
# numpy, pandas, pillow, rapidfuzz, argon2-cffi, protobuf, neonize's Go .so, ...),
# so no compiler is installed here.
FROM base AS builder
RUN python -m venv "$VIRTUAL_ENV"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY flows/ flows/
COPY service/ service/
COPY analytics/ analytics/
COPY migrations/ migrations/
# Builds the project's wheel and installs it (non-editable) with its dependencies.
RUN pip install .

# -------------------------------------------------------------- builder-notebooks
FROM builder AS builder-notebooks
RUN pip install ".[notebooks]"

# ------------------------------------------------------------------- runtime-base
FROM base AS runtime-base
# libmagic1: neonize imports python-magic at module level (neonize/client.py), and
# python-magic loads libmagic.so.1 through ctypes; without it `import neonize` fails
# with "ImportError: failed to find libmagic". It pulls in libmagic-mgc (the magic
# database) as a dependency. neonize's own Go library needs only libc.
# ffmpeg is deliberately left out: neonize only warns at connect time and needs it
# solely for video/GIF/sticker conversion, which atende does not do.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmagic1 \
    && rm -rf /var/lib/apt/lists/*
# `atende backup` / `restore` run pg_dump, pg_restore and psql, which must be at least as new
# as the server (compose runs postgres:16; Debian's own client may be older): PostgreSQL's
# apt repository for this image's Debian release.
ARG PG_CLIENT_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && . /etc/os-release \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client-${PG_CLIENT_MAJOR}" \
    && apt-get purge -y curl && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/*

ARG APP_UID=10001
ARG APP_GID=10001
RUN groupadd --system --gid "${APP_GID}" atende \
    && useradd --system --uid "${APP_UID}" --gid atende \
        --home-dir /home/atende --create-home --shell /usr/sbin/nologin atende \
    && mkdir -p /app /data /backups \
    && chown atende:atende /app /data /backups

ENV PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/atende \
    DATA_DIR=/data
WORKDIR /app

# ------------------------------------------------------------------------ jupyter
# BuildKit skips this stage for `--target runtime`; the legacy builder builds it too.
FROM runtime-base AS jupyter
COPY --from=builder-notebooks /opt/venv /opt/venv
COPY --chown=atende:atende notebooks/ /app/notebooks/
USER atende
EXPOSE 8888
# Token: JUPYTER_TOKEN from the environment, else a random one printed in the log.
CMD ["jupyter", "lab", "--ip", "0.0.0.0", "--port", "8888", "--no-browser", \
     "--notebook-dir", "/app/notebooks"]

# ------------------------------------------------------------------------ runtime
FROM runtime-base AS runtime
COPY --from=builder /opt/venv /opt/venv
ENV PORT=8080 \
    WORKERS=2
# Declared after /data was chowned, so a new named volume starts owned by atende.
VOLUME ["/data", "/backups"]
USER atende
EXPOSE 8080
# No curl in slim images: ask with the interpreter that is already there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]
# Apply migrations, then replace the shell with the server so it gets the signals.
CMD ["sh", "-c", "atende migrate && exec atende serve --port 8080 --workers ${WORKERS:-2}"]
